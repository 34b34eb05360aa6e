//! The demo's fault scenarios: what each breaks, what it restores, and the
//! verdict it is built to produce with the SLOs in `slos/`.

use std::time::Duration;

use super::shop::{Delay, Shop};

/// A fault scenario of `verdict demo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Kill order-1 (it restarts after a delay, as Kubernetes would) and add
    /// 300 ms to 20% of inventory's requests. Built to end in `warn`: every
    /// SLO recovers in time, p99 latency rises above its pass criterion.
    KillAndLatency,
    /// Only the inventory latency. Built to end in `warn`.
    Latency,
    /// inventory answers 10% of its requests with 503; order's retries hide
    /// most of them. Built to `pass` (a ticket alert may fire).
    ErrorBurst,
    /// inventory-1 starts failing 10% of its requests and stays broken
    /// after the chaos ends. Built to `fail`: inventory never recovers.
    NoRecovery,
}

/// Phase lengths of a demo run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub baseline: Duration,
    pub fault: Duration,
    pub recovery: Duration,
    /// How long a killed pod stays down.
    pub restart_after: Duration,
}

impl Timing {
    /// About three minutes in all.
    pub const DEFAULT: Timing = Timing {
        baseline: Duration::from_secs(60),
        fault: Duration::from_secs(45),
        recovery: Duration::from_secs(60),
        restart_after: Duration::from_secs(15),
    };
    /// About a minute and a half: for CI. The recovery window still holds
    /// the SLOs' `stable_for` (30s) after a recovery of up to 15s.
    pub const QUICK: Timing = Timing {
        baseline: Duration::from_secs(20),
        fault: Duration::from_secs(20),
        recovery: Duration::from_secs(45),
        restart_after: Duration::from_secs(8),
    };
}

/// The inventory latency of the latency scenarios.
const SLOW_INVENTORY: Delay = Delay {
    extra: Duration::from_millis(300),
    share: 0.2,
};

impl Scenario {
    /// The name on the command line and in the experiment's name.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::KillAndLatency => "kill-and-latency",
            Scenario::Latency => "latency",
            Scenario::ErrorBurst => "error-burst",
            Scenario::NoRecovery => "no-recovery",
        }
    }

    /// The experiment's `type`.
    pub fn fault_type(self) -> &'static str {
        match self {
            Scenario::KillAndLatency => "pod-kill",
            Scenario::Latency => "network-delay",
            Scenario::ErrorBurst | Scenario::NoRecovery => "custom",
        }
    }

    /// The service the experiment targets.
    pub fn target(self) -> &'static str {
        match self {
            Scenario::KillAndLatency => "order",
            _ => "inventory",
        }
    }

    /// One sentence: what breaks.
    pub fn story(self) -> &'static str {
        match self {
            Scenario::KillAndLatency => {
                "kill pod order-1 (it restarts after a delay) and add 300ms to 20% of inventory's requests"
            }
            Scenario::Latency => "add 300ms to 20% of inventory's requests",
            Scenario::ErrorBurst => "inventory answers 10% of its requests with 503",
            Scenario::NoRecovery => {
                "inventory-1 starts failing 10% of its requests and stays broken after the chaos ends"
            }
        }
    }

    /// The verdict the scenario is built to produce.
    pub fn expected(self) -> &'static str {
        match self {
            Scenario::KillAndLatency | Scenario::Latency => "warn",
            Scenario::ErrorBurst => "pass",
            Scenario::NoRecovery => "fail",
        }
    }

    /// Injects the fault; returns what happened, for the progress output.
    pub fn inject(self, shop: &Shop, timing: &Timing) -> Vec<String> {
        match self {
            Scenario::KillAndLatency => {
                shop.kill("order-1", Some(timing.restart_after));
                shop.faults.set_delay("inventory", Some(SLOW_INVENTORY));
                vec![
                    format!(
                        "killed pod order-1 (restarts in {}s)",
                        timing.restart_after.as_secs()
                    ),
                    "inventory: +300ms on 20% of requests".to_owned(),
                ]
            }
            Scenario::Latency => {
                shop.faults.set_delay("inventory", Some(SLOW_INVENTORY));
                vec!["inventory: +300ms on 20% of requests".to_owned()]
            }
            Scenario::ErrorBurst => {
                shop.faults.set_errors("inventory", 0.1, 503);
                vec!["inventory: 503 on 10% of requests".to_owned()]
            }
            Scenario::NoRecovery => {
                shop.faults.set_errors("inventory-1", 0.1, 500);
                vec!["inventory-1: 500 on 10% of requests".to_owned()]
            }
        }
    }

    /// Ends the chaos: removes what the chaos tool controls.
    pub fn remove(self, shop: &Shop) -> Vec<String> {
        match self {
            Scenario::KillAndLatency | Scenario::Latency => {
                shop.faults.set_delay("inventory", None);
                vec!["inventory latency removed".to_owned()]
            }
            Scenario::ErrorBurst => {
                shop.faults.set_errors("inventory", 0.0, 503);
                vec!["inventory errors removed".to_owned()]
            }
            Scenario::NoRecovery => {
                vec!["chaos ended, but inventory-1 stays broken".to_owned()]
            }
        }
    }
}
