//! The XML of answers: escaped text, a small writer for nested results, and the success and error
//! documents.

/// Escapes text for an XML element.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all are replaced rather than breaking the document.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// `<Name>text</Name>`, escaped.
pub fn element(name: &str, text: &str) -> String {
    let mut x = Xml::default();
    x.text(name, text);
    x.finish()
}

/// A writer of nested elements.
#[derive(Clone, Debug, Default)]
pub struct Xml(String);

impl Xml {
    /// `<name>`.
    pub fn open(&mut self, name: &str) -> &mut Self {
        self.0.push('<');
        self.0.push_str(name);
        self.0.push('>');
        self
    }

    /// `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Self {
        self.0.push_str("</");
        self.0.push_str(name);
        self.0.push('>');
        self
    }

    /// `<name>text</name>`, escaped.
    pub fn text(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name);
        escape_into(&mut self.0, text);
        self.close(name)
    }

    /// `<name>text</name>` when there is a text.
    pub fn opt(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(t) = text {
            self.text(name, t);
        }
        self
    }

    /// `<name>true</name>` or `false`.
    pub fn flag(&mut self, name: &str, value: bool) -> &mut Self {
        self.text(name, if value { "true" } else { "false" })
    }

    /// `<name>N</name>`.
    pub fn number(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        self.text(name, &value.to_string())
    }

    /// `<name><member>…</member>…</name>`, one member written by `each` per item.
    pub fn list<T>(
        &mut self,
        name: &str,
        items: impl IntoIterator<Item = T>,
        mut each: impl FnMut(&mut Xml, T),
    ) -> &mut Self {
        self.open(name);
        for item in items {
            self.open("member");
            each(self, item);
            self.close("member");
        }
        self.close(name)
    }

    /// Already-written XML, as is.
    pub fn raw(&mut self, xml: &str) -> &mut Self {
        self.0.push_str(xml);
        self
    }

    /// The text written.
    pub fn finish(self) -> String {
        self.0
    }
}

/// `<{action}Response xmlns="{namespace}"><{action}Result>{result}</…><ResponseMetadata>…`.
pub fn success_document(namespace: &str, action: &str, result: &str, request_id: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{namespace}\">\n  <{action}Result>{result}</{action}Result>\n  <ResponseMetadata>{}</ResponseMetadata>\n</{action}Response>\n",
        element("RequestId", request_id)
    )
}

/// Who caused an error: the caller (4xx) or the service (5xx).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The request was wrong.
    Sender,
    /// The service failed.
    Receiver,
}

impl Fault {
    /// The fault an HTTP status says.
    pub fn of_status(status: u16) -> Fault {
        if status >= 500 {
            Fault::Receiver
        } else {
            Fault::Sender
        }
    }
}

/// An `ErrorResponse` document.
pub fn error_document(
    namespace: &str,
    fault: Fault,
    code: &str,
    message: &str,
    request_id: &str,
) -> String {
    let kind = match fault {
        Fault::Sender => "Sender",
        Fault::Receiver => "Receiver",
    };
    format!(
        "<ErrorResponse xmlns=\"{namespace}\">\n  <Error>{}{}{}</Error>\n  {}\n</ErrorResponse>\n",
        element("Type", kind),
        element("Code", code),
        element("Message", message),
        element("RequestId", request_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_control_characters_replaced() {
        assert_eq!(
            element("M", "a<b> & \"c\" 'd'\u{1}"),
            "<M>a&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;\u{FFFD}</M>"
        );
    }

    #[test]
    fn lists_and_documents() {
        let mut x = Xml::default();
        x.list("Users", ["a", "b"], |x, n| {
            x.text("UserName", n);
        })
        .flag("IsTruncated", false);
        assert_eq!(
            x.finish(),
            "<Users><member><UserName>a</UserName></member><member><UserName>b</UserName></member></Users><IsTruncated>false</IsTruncated>"
        );
        let d = error_document("ns", Fault::of_status(404), "NoSuchEntity", "gone", "r1");
        assert!(d.contains("<Type>Sender</Type><Code>NoSuchEntity</Code><Message>gone</Message>"));
        let s = success_document("ns", "ListUsers", "<X/>", "r1");
        assert!(s.starts_with("<ListUsersResponse xmlns=\"ns\">"));
        assert!(s.contains("<RequestId>r1</RequestId>"));
    }
}
