//! Small pieces of markup forms are built from.

use maud::{Markup, html};

use crate::auth::csrf;
use crate::error::FieldError;

pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name=(csrf::FIELD) value=(token); }
}

/// The message for `field`, if any.
pub fn error_for<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.field == field)
        .map(|e| e.message.as_str())
}

pub struct Input<'a> {
    pub name: &'a str,
    pub label: &'a str,
    pub kind: &'a str,
    pub value: &'a str,
    pub autocomplete: &'a str,
    pub required: bool,
    pub autofocus: bool,
    pub hint: Option<&'a str>,
}

impl<'a> Input<'a> {
    pub fn new(name: &'a str, label: &'a str, kind: &'a str) -> Self {
        Self {
            name,
            label,
            kind,
            value: "",
            autocomplete: "off",
            required: true,
            autofocus: false,
            hint: None,
        }
    }

    pub fn value(mut self, v: &'a str) -> Self {
        self.value = v;
        self
    }

    pub fn autocomplete(mut self, v: &'a str) -> Self {
        self.autocomplete = v;
        self
    }

    pub fn autofocus(mut self, yes: bool) -> Self {
        self.autofocus = yes;
        self
    }

    pub fn hint(mut self, h: &'a str) -> Self {
        self.hint = Some(h);
        self
    }

    /// A labelled input with its hint and, when the server refused it, the message.
    pub fn render(&self, errors: &[FieldError]) -> Markup {
        let error = error_for(errors, self.name);
        let id = format!("f-{}", self.name);
        let described = match (error.is_some(), self.hint.is_some()) {
            (true, _) => Some(format!("{id}-error")),
            (false, true) => Some(format!("{id}-hint")),
            _ => None,
        };
        html! {
            div.field.invalid[error.is_some()] {
                label for=(id) { (self.label) }
                input #(id) type=(self.kind) name=(self.name) value=(self.value)
                    autocomplete=(self.autocomplete) required[self.required]
                    autofocus[self.autofocus || (error.is_some() && errors.first().is_some_and(|e| e.field == self.name))]
                    aria-invalid=[error.map(|_| "true")]
                    aria-describedby=[described];
                @if let Some(message) = error {
                    p.error id=(format!("{id}-error")) { (self.label) " " (message) "." }
                } @else if let Some(hint) = self.hint {
                    p.hint id=(format!("{id}-hint")) { (hint) }
                }
            }
        }
    }
}

/// A summary at the top of a refused form, for screen readers and long forms.
pub fn form_errors(errors: &[FieldError], general: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = general {
            div.alert role="alert" { (message) }
        } @else if !errors.is_empty() {
            div.alert role="alert" {
                @if errors.len() == 1 { "Please correct the field below." }
                @else { "Please correct the " (errors.len()) " fields below." }
            }
        }
    }
}
