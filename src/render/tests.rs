//! Golden tests: every built-in template rendered for every ticket system's markup, with a
//! hostile ticket subject, compared with the files under `tests/golden/`. Set
//! `DESKBRIDGE_BLESS=1` to rewrite them after an intended change, then review the diff.

use super::*;

#[test]
fn every_builtin_template_renders_for_every_markup_as_the_golden_files_say() {
    let t = Templates::load(None).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var("DESKBRIDGE_BLESS").is_ok();
    let mut failures = vec![];
    for (name, _) in BUILTIN {
        for m in ALL_MARKUPS {
            let got = t.render(name, m, &NoteContext::sample()).unwrap();
            let file = dir.join(format!("{name}.{}.txt", markup_name(m)));
            if bless {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&file, &got).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&file)
                .unwrap_or_else(|_| panic!("missing golden file {}", file.display()));
            if got != want {
                failures.push(format!(
                    "{}:\n--- want\n{want}\n--- got\n{got}",
                    file.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn ticket_text_is_escaped_but_vendor_links_are_kept_exactly() {
    let t = Templates::load(None).unwrap();
    let html = t
        .render("session_link", Markup::Html, &NoteContext::sample())
        .unwrap();
    assert!(html.contains("Outlook crashes &lt;b&gt;[code]"), "{html}");
    assert!(
        html.contains("st-business://com.splashtop.business/?sos=123456789&category=40"),
        "{html}"
    );
    let snow = t
        .render("session_link", Markup::ServiceNow, &NoteContext::sample())
        .unwrap();
    assert!(snow.contains("<b>[\u{200B}code]"), "{snow}");
    assert!(snow.contains("https://my.splashtop.com/service_desk/psa/123456789"));
}

#[test]
fn a_template_with_an_unknown_variable_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("session_link.j2"),
        "Hello {{ ticket.nubmer }}",
    )
    .unwrap();
    let e = Templates::load(Some(dir.path())).unwrap_err();
    assert_eq!(e.name, "session_link");
    assert!(e.reason.contains("undefined"), "{e}");
}

#[test]
fn an_override_directory_replaces_a_builtin_template() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("session_link.j2"),
        "Join: {{ session.end_user_link }}",
    )
    .unwrap();
    let t = Templates::load(Some(dir.path())).unwrap();
    let out = t
        .render("session_link", Markup::Plain, &NoteContext::sample())
        .unwrap();
    assert_eq!(
        out,
        "Join: https://my.splashtop.com/service_desk/psa/123456789"
    );
    assert!(t.has("session_summary"));
}
