//! The HTTP listener: Prometheus metrics at `/metrics`, the management API under
//! `/api/v1/` (for now `POST /api/v1/reload`), and the CT log's routes (`/ct/…`,
//! `/api/v1/ct/…`, `/witness/…`) when the node runs them.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use super::Node;

/// What the handlers share.
#[derive(Clone)]
struct AppState {
    node: Arc<Node>,
    registry: Arc<Registry>,
}

/// Serves HTTP on `listener` for as long as the node runs.
pub async fn serve(
    listener: TcpListener,
    node: Arc<Node>,
    ct: Option<super::ct::CtServices>,
) -> std::io::Result<()> {
    let mut registry = node.metrics.registry();
    if let Some(recursor) = &node.recursor {
        recursor.register_metrics(&mut registry);
    }
    let ct = ct.map(|ct| {
        registry.register_collector(Box::new(ct.metrics));
        ct.router
    });
    let registry = Arc::new(registry);
    let mut app = Router::new()
        .route("/metrics", get(metrics))
        .route("/api/v1/reload", post(reload))
        .with_state(AppState {
            node: Arc::clone(&node),
            registry,
        })
        .merge(super::recursor::api::router(
            Arc::clone(&node.answerer),
            node.recursor.clone(),
        ));
    if let Some(ct) = ct {
        app = app.merge(ct);
    }
    axum::serve(listener, app).await
}

/// `GET /metrics`: the OpenMetrics text format, which Prometheus reads.
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = String::new();
    match prometheus_client::encoding::text::encode(&mut text, &state.registry) {
        Ok(()) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        ),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "cannot encode metrics\n".to_owned(),
        ),
    }
}

/// `POST /api/v1/reload`: re-reads config and zones. 200 with a summary when every zone
/// loaded; 422 with the errors (the failed zones keep their old version) otherwise.
async fn reload(State(state): State<AppState>) -> impl IntoResponse {
    let node = Arc::clone(&state.node);
    let report = match tokio::task::spawn_blocking(move || node.reload()).await {
        Ok(r) => r,
        Err(e) => Err(format!("reload task failed: {e}")),
    };
    match report {
        Ok(summary) => (StatusCode::OK, summary + "\n"),
        Err(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors + "\n"),
    }
}
