//! A path and the methods it answers. Any other method gets a 405 whose `Allow` header lists
//! the methods the path does answer, as RFC 9110 (§15.5.6) requires, so a client can learn
//! them from the error alone. A path that answers GET answers HEAD too (§9.3.2): uptime
//! monitors often ask `HEAD /healthz`, and actix sends the GET answer's headers without its
//! body.

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::http::Method;
use actix_web::{FromRequest, Handler, Responder, Route, guard, web};

use crate::error::AppError;

/// Built with [`resource`], then one call per method; registered like an actix resource.
pub struct Resource {
    inner: actix_web::Resource,
    allow: Vec<Method>,
}

/// The resource at `path`, answering no method yet.
pub fn resource(path: &str) -> Resource {
    Resource {
        inner: web::resource(path),
        allow: Vec::new(),
    }
}

impl Resource {
    /// Answers `method` with `route`, and HEAD as well when `method` is GET. The route comes
    /// unguarded (`web::route().to(handler)`): the method guard is set here, beside the
    /// `Allow` list it must agree with.
    pub fn route(mut self, method: Method, route: Route) -> Self {
        let head = (method == Method::GET).then_some(Method::HEAD);
        let mut answers = guard::Any(guard::Method(method.clone()));
        if head.is_some() {
            answers = answers.or(guard::Head());
        }
        for method in std::iter::once(method).chain(head) {
            if !self.allow.contains(&method) {
                self.allow.push(method);
            }
        }
        self.inner = self.inner.route(route.guard(answers));
        self
    }

    /// Answers GET (and so HEAD) with `handler`.
    pub fn get<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::GET, web::route().to(handler))
    }

    /// Answers POST with `handler`.
    pub fn post<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::POST, web::route().to(handler))
    }

    /// The `Allow` header's value: the methods in the order they were added.
    fn allow_header(&self) -> String {
        let methods: Vec<&str> = self.allow.iter().map(Method::as_str).collect();
        methods.join(", ")
    }
}

impl HttpServiceFactory for Resource {
    fn register(self, config: &mut AppService) {
        let allow = self.allow_header();
        self.inner
            .default_service(web::to(move || {
                let allow = allow.clone();
                async move { Err::<actix_web::HttpResponse, _>(AppError::MethodNotAllowed { allow }) }
            }))
            .register(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn ok() -> &'static str {
        "ok"
    }

    #[test]
    fn allow_lists_each_method_once_in_the_order_added() {
        let res = resource("/x")
            .get(ok)
            .post(ok)
            .route(Method::GET, web::route().to(ok));
        assert_eq!(res.allow_header(), "GET, HEAD, POST");
        assert_eq!(resource("/y").allow_header(), "");
    }
}
