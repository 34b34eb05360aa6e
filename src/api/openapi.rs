//! The OpenAPI document, generated from the handlers' `#[utoipa::path]`
//! annotations and the request/response types. Served at
//! `/api/v1/openapi.json`; a test checks that every route of the router is
//! in it and that every operation in it is routed.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::Problem;
use super::experiments::{
    AbortRequest, CreateExperiment, Experiment, ExperimentPage, SloSelection, Target, TransitionAt,
    WebhookStatus,
};
use super::reports::ReportFormat;
use super::system::{Health, SloInfo};
use super::tokens::{CreateToken, CreatedToken, TokenInfo};
use crate::store::{FaultType, Link, Role, SloSelector, Status, VerdictOutcome, WebhookState};

/// verdict's HTTP API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "verdict",
        description = "Reliability verdicts for chaos experiments: create and drive experiments, read their verdicts. Errors are application/problem+json with a stable `type`.",
    ),
    paths(
        super::experiments::create_experiment,
        super::experiments::list_experiments,
        super::experiments::get_experiment,
        super::experiments::start_experiment,
        super::experiments::end_experiment,
        super::experiments::abort_experiment,
        super::experiments::get_verdict,
        super::reports::get_report,
        super::reports::get_chart,
        super::tokens::create_token,
        super::tokens::list_tokens,
        super::tokens::revoke_token,
        super::system::healthz,
        super::system::readyz,
        super::system::metrics,
        super::system::list_slos,
        super::system::get_config,
        super::system::openapi,
        super::deliveries::list_deliveries,
        super::deliveries::retry_delivery,
        super::alerts::receive_alertmanager,
    ),
    components(schemas(
        Problem, CreateExperiment, Experiment, ExperimentPage, Target, SloSelection, SloSelector,
        Link, TransitionAt, AbortRequest, WebhookStatus, Status, FaultType, VerdictOutcome,
        WebhookState, Role, CreateToken, CreatedToken, TokenInfo, Health, SloInfo,
        ReportFormat,
        crate::store::DeliveryRow, super::alerts::AlertmanagerPayload,
        super::alerts::AlertmanagerAlert, super::alerts::AlertsReceived,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "experiments", description = "Chaos experiments and their verdicts"),
        (name = "tokens", description = "API tokens (admin)"),
        (name = "system", description = "Health, metrics, configuration"),
        (name = "notifications", description = "The delivery outbox and the Alertmanager webhook"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the operations refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("vdt_<64 hex digits>")
                    .description(Some(
                        "A token from `verdict token create` or POST /api/v1/tokens. Roles: viewer (read), operator (experiments), admin (tokens, config).",
                    ))
                    .build(),
            ),
        );
    }
}
