//! Email delivery into a real SMTP server on loopback (Python's aiosmtpd,
//! which `make test` installs), asserting the message as received.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use verdict::notify::delivery::Secret;
use verdict::notify::email::{EmailMessage, EmailReceiver, InlineImage, SmtpSecurity, message_id};

/// An aiosmtpd process writing every message it accepts into a maildir.
pub(crate) struct SmtpServer {
    child: Child,
    pub(crate) port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmtpServer {
    pub(crate) fn start() -> SmtpServer {
        let has = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            has,
            "aiosmtpd not found: run `make test`, which installs it, or `pip install aiosmtpd`"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let maildir = dir.path().join("maildir");
        let port = free_port();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let server = SmtpServer {
            child,
            port,
            maildir,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// The raw messages received so far.
    fn messages(&self) -> Vec<Vec<u8>> {
        let dir = self.maildir.join("new");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read(f).expect("read mail"))
            .collect()
    }

    pub(crate) fn wait_for(&self, n: usize) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let m = self.messages();
            if m.len() >= n || Instant::now() > deadline {
                return m;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn receiver(port: u16) -> EmailReceiver {
    EmailReceiver {
        name: "ops-mail".into(),
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from: "verdict <verdict@example.org>".into(),
        to: vec!["sre@example.org".into(), "oncall@example.org".into()],
        timeout: Duration::from_secs(5),
    }
}

fn png_bytes() -> Vec<u8> {
    let chart = verdict::chart::TimeChart {
        title: "order-availability".into(),
        y_label: "error ratio".into(),
        y_format: verdict::chart::YFormat::Percent,
        y_scale: verdict::chart::YScale::Linear,
        series: vec![verdict::chart::ChartSeries {
            label: "error ratio".into(),
            points: vec![(0.0, 0.0), (60.0, 0.2), (120.0, 0.0)],
        }],
        hlines: vec![],
        bands: vec![],
        markers: vec![],
    };
    chart.render_png((300, 120)).expect("chart")
}

pub(crate) fn part_by_type<'a>(
    part: &'a mailparse::ParsedMail<'a>,
    mime: &str,
) -> Option<&'a mailparse::ParsedMail<'a>> {
    if part.ctype.mimetype == mime {
        return Some(part);
    }
    part.subparts.iter().find_map(|p| part_by_type(p, mime))
}

#[tokio::test]
async fn a_report_email_arrives_with_both_parts_and_the_inline_chart() {
    let smtp = SmtpServer::start();
    let png = png_bytes();
    let msg = EmailMessage {
        subject: "[verdict] FAIL: pod-kill order (budget consumed 4.1% > max 2%)".into(),
        text: "Verdict: fail\norder-availability: budget consumed 4.1% > max 2%\n".into(),
        html: "<h1>Verdict: fail</h1><img src=\"cid:chart-order-availability\" alt=\"chart\">"
            .into(),
        inline_images: vec![InlineImage {
            content_id: "chart-order-availability".into(),
            content_type: "image/png".into(),
            bytes: png.clone(),
        }],
        message_id: message_id("evt-42", "ops-mail"),
    };
    receiver(smtp.port).send(&msg).await.expect("delivered");

    let received = smtp.wait_for(1);
    assert_eq!(received.len(), 1, "one message received");
    let mail = mailparse::parse_mail(&received[0]).expect("valid MIME");
    let header = |name: &str| {
        mail.headers
            .iter()
            .find(|h| h.get_key().eq_ignore_ascii_case(name))
            .map(|h| h.get_value())
            .unwrap_or_default()
    };
    assert_eq!(
        header("Subject"),
        "[verdict] FAIL: pod-kill order (budget consumed 4.1% > max 2%)"
    );
    assert_eq!(header("From"), "verdict <verdict@example.org>");
    assert_eq!(header("To"), "sre@example.org, oncall@example.org");
    assert_eq!(header("Message-ID"), "<evt-42.ops-mail@verdict>");
    assert_eq!(mail.ctype.mimetype, "multipart/alternative");

    let text = part_by_type(&mail, "text/plain").expect("text part");
    assert_eq!(
        text.get_body().unwrap().replace("\r\n", "\n"),
        "Verdict: fail\norder-availability: budget consumed 4.1% > max 2%\n"
    );
    let related = part_by_type(&mail, "multipart/related").expect("related part");
    let html = part_by_type(related, "text/html").expect("html part");
    assert!(
        html.get_body()
            .unwrap()
            .contains("<img src=\"cid:chart-order-availability\"")
    );
    let image = part_by_type(related, "image/png").expect("inline image");
    let cid = image
        .headers
        .iter()
        .find(|h| h.get_key().eq_ignore_ascii_case("Content-ID"))
        .map(|h| h.get_value())
        .unwrap_or_default();
    assert_eq!(cid, "<chart-order-availability>");
    assert_eq!(
        image.get_body_raw().unwrap(),
        png,
        "the chart arrives byte for byte"
    );
    let disposition = image.get_content_disposition();
    assert_eq!(disposition.disposition, mailparse::DispositionType::Inline);
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_retryable_and_hides_the_password() {
    let port = free_port(); // nothing listens there
    let mut r = receiver(port);
    r.username = Some("verdict".into());
    r.password = Some(Secret::new("sm7p-pa55w0rd"));
    r.timeout = Duration::from_secs(2);
    let msg = EmailMessage {
        subject: "s".into(),
        text: "t".into(),
        html: "<p>h</p>".into(),
        inline_images: vec![],
        message_id: message_id("e", "ops-mail"),
    };
    let err = r.send(&msg).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(!format!("{err} {err:?}").contains("sm7p-pa55w0rd"));
}
