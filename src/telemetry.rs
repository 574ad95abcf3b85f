//! Where log lines go and how they look: stderr, as text or as JSON objects.

use std::io::IsTerminal;

use crate::cli::LogFormat;

/// Installs the global subscriber. JSON lines carry the request span (its `id` and
/// `route`), so one request's lines can be found together.
pub fn init(filter: &str, format: LogFormat) {
    let filter = env_filter(filter);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, not in journald or a log file.
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

/// The filter for `--log`, quieting actix's HTTP/1 dispatcher unless `--log` names actix_http.
///
/// The dispatcher logs at ERROR every request it cannot parse ("stream error: request parse
/// error: invalid Header provided"), which it answers with a 400 itself: a port scanner or a
/// broken client would then raise an operator's alerts on error lines. Nothing in the server
/// failed.
fn env_filter(spec: &str) -> tracing_subscriber::EnvFilter {
    let filter = tracing_subscriber::EnvFilter::try_new(spec)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if spec.contains("actix_http") {
        return filter;
    }
    match "actix_http::h1::dispatcher=off".parse() {
        Ok(quiet) => filter.add_directive(quiet),
        Err(_) => filter,
    }
}

#[cfg(test)]
mod tests {
    use super::env_filter;

    #[test]
    fn the_dispatcher_s_parse_errors_stay_quiet_unless_asked_for() {
        assert!(
            env_filter("info")
                .to_string()
                .contains("actix_http::h1::dispatcher=off")
        );
        assert!(
            !env_filter("info,actix_http=debug")
                .to_string()
                .contains("dispatcher=off")
        );
    }
}
