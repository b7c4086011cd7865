//! HTML and XML character entities, as in `web.config`, Maven `settings.xml`, HTML forms.

use super::{Encoding, Variant};

pub struct HtmlEntities;

const QUOTE_FORMS: [&[u8]; 3] = [b"\"", b"&quot;", b"&#34;"];
const APOSTROPHE_FORMS: [&[u8]; 4] = [b"'", b"&apos;", b"&#39;", b"&#x27;"];

fn escape(secret: &[u8], quote: &[u8], apostrophe: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(secret.len() * 2);
    for &b in secret {
        match b {
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            b'>' => out.extend_from_slice(b"&gt;"),
            b'"' => out.extend_from_slice(quote),
            b'\'' => out.extend_from_slice(apostrophe),
            _ => out.push(b),
        }
    }
    out
}

impl Encoding for HtmlEntities {
    fn name(&self) -> &'static str {
        "html-entities"
    }

    fn variants(&self, secret: &[u8]) -> Vec<Variant> {
        let mut variants = Vec::new();
        for quote in QUOTE_FORMS {
            for apostrophe in APOSTROPHE_FORMS {
                let detail = format!(
                    "&amp; &lt; &gt;, \" as {}, ' as {}",
                    String::from_utf8_lossy(quote),
                    String::from_utf8_lossy(apostrophe)
                );
                variants.push(Variant::exact(escape(secret, quote, apostrophe), detail));
            }
        }
        variants
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_python_html_escape() {
        let all: Vec<Vec<u8>> = HtmlEntities
            .variants(b"a&b\"c'd<e>")
            .into_iter()
            .map(|v| v.pattern.to_vec())
            .collect();
        assert!(all.contains(&b"a&amp;b&quot;c&#x27;d&lt;e&gt;".to_vec()));
        assert!(all.contains(&b"a&amp;b\"c'd&lt;e&gt;".to_vec()));
    }
}
