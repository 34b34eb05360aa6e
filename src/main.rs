use clap::Parser;

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = verdict::cli::Cli::parse();
    std::process::exit(verdict::cli::run(cli));
}
