//! PDFs made by real writers, whose text the raw bytes do not hold: a TrueType font
//! embedded as a subset shows glyph numbers (fpdf2 writes `<001d0022…> Tj` with a
//! `ToUnicode` map), a token wrapped over two lines is cut in two, and qpdf moves the fonts
//! into a compressed object stream. Each was `absent` before the PDF text view.

mod common;

use common::{have_python_module, have_tool, random_token, run_shell, scan};

const WRITE: &str = r#"
import os, reportlab
from fpdf import FPDF
from reportlab.pdfgen import canvas
secret = os.environ["SECRET"]
vera = os.path.join(os.path.dirname(reportlab.__file__), "fonts", "Vera.ttf")

def subset(name, text, width=None):
    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("Vera", fname=vera)
    pdf.set_font("Vera", size=12)
    if width:
        pdf.multi_cell(w=width, text=text)
    else:
        pdf.cell(text=text)
    pdf.output(name)

subset("subset.pdf", "Rotated key: " + secret)
subset("wrapped.pdf", "key " + secret, width=30)
c = canvas.Canvas("core-font.pdf")
c.drawString(100, 700, "key " + secret)
c.save()
"#;

#[test]
fn text_shown_in_subset_fonts_is_read() {
    let have_writers = have_python_module("fpdf") && have_python_module("reportlab");
    if !have_writers || !have_tool("qpdf") {
        return;
    }
    let secret = random_token(32);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("write.py"), WRITE).unwrap();
    run_shell("python3 write.py", b"", &secret, &["python3"], dir).expect("writers ran");
    run_shell(
        "qpdf --object-streams=generate subset.pdf objstm.pdf",
        b"",
        &secret,
        &["qpdf"],
        dir,
    )
    .expect("qpdf ran");
    let mut expected = vec!["subset.pdf", "wrapped.pdf", "objstm.pdf", "core-font.pdf"];
    if run_shell(
        "gs -q -dNOPAUSE -dBATCH -sDEVICE=pdfwrite -sOutputFile=ghostscript.pdf subset.pdf",
        b"",
        &secret,
        &["gs"],
        dir,
    )
    .is_some()
    {
        expected.push("ghostscript.pdf");
    }
    for name in ["subset.pdf", "wrapped.pdf", "objstm.pdf"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert!(
            memchr::memmem::find(&bytes, &secret).is_none(),
            "{name} holds the secret raw"
        );
    }
    std::fs::remove_file(dir.join("write.py")).unwrap();

    let result = scan(&secret, &[dir]);
    for name in &expected {
        let found: Vec<String> = result
            .places()
            .into_iter()
            .map(|(chain, _)| chain)
            .filter(|chain| {
                chain
                    .split('!')
                    .next()
                    .unwrap()
                    .ends_with(&format!("/{name}"))
            })
            .collect();
        // Once each: the view does not report again what the raw pass found (the core-font
        // file's literal string).
        assert_eq!(found.len(), 1, "{name}: {found:?}");
    }
    assert!(result.gaps().is_empty(), "{:?}", result.gaps());
    assert_eq!(result.verdict(), "found");
    result.assert_no_leak(&secret);
}

/// A subset font whose `ToUnicode` map was removed: its glyph numbers cannot be read as
/// text, so the file is `incomplete`, never `absent`.
#[test]
fn a_subset_font_without_a_map_is_a_gap() {
    if !have_python_module("fpdf") || !have_python_module("reportlab") || !have_tool("qpdf") {
        return;
    }
    let secret = random_token(32);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    std::fs::write(dir.join("write.py"), WRITE).unwrap();
    run_shell("python3 write.py", b"", &secret, &["python3"], dir).expect("writers ran");
    let qdf = dir.join("qdf.pdf");
    run_shell(
        "qpdf --qdf --object-streams=disable subset.pdf qdf.pdf",
        b"",
        &secret,
        &["qpdf"],
        dir,
    )
    .expect("qpdf ran");
    let mut edited = std::fs::read(&qdf).unwrap();
    let keys: Vec<usize> = memchr::memmem::find_iter(&edited, b"/ToUnicode").collect();
    assert!(!keys.is_empty());
    for at in keys {
        edited[at..at + 10].copy_from_slice(b"/NoUnicode");
    }
    let scanned = tempfile::tempdir().unwrap();
    std::fs::write(scanned.path().join("unmapped.pdf"), edited).unwrap();
    let result = scan(&secret, &[scanned.path()]);
    assert_eq!(result.verdict(), "incomplete", "{:?}", result.findings());
    let gaps = result.gaps();
    assert!(
        gaps.iter().any(|gap| gap["kind"] == "unsupported"
            && gap["reason"]
                .as_str()
                .unwrap()
                .contains("no ToUnicode map (/F1)")),
        "{gaps:?}"
    );
}

/// An object stream whose filter scour does not undo (LZW here) holds objects that were
/// not read (fonts and their maps, in most writers' files): a gap naming it, not a file
/// that passes as read.
#[test]
fn an_object_stream_scour_cannot_decode_is_a_gap() {
    let secret = random_token(32);
    let mut pdf = b"%PDF-1.5\n1 0 obj\n<< /Type /ObjStm /N 1 /First 5 /Filter /LZWDecode /Length 8 >>\nstream\n".to_vec();
    pdf.extend_from_slice(b"\x80\x0b\x60\x50\x22\x0c\x0c\x85");
    pdf.extend_from_slice(b"\nendstream\nendobj\ntrailer\n<< /Root 2 0 R >>\n%%EOF\n");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lzw.pdf"), &pdf).unwrap();
    let result = scan(&secret, &[dir.path()]);
    assert_eq!(result.verdict(), "incomplete", "{:?}", result.gaps());
    let gaps = result.gaps();
    assert!(
        gaps.iter().any(|gap| {
            let reason = gap["reason"].as_str().unwrap_or_default();
            gap["kind"] == "unsupported"
                && reason.contains("object 1 ")
                && reason.contains("LZWDecode")
                && reason.contains("objects it holds")
        }),
        "{gaps:?}"
    );
}
