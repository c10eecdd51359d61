//! Property tests for the two editors. For any input: either a clean error, or output that
//! parses, keeps everything we do not own exactly as it was, and is a fixed point.

use std::path::Path;

use proptest::prelude::*;
use serde_json::{Map, Value};

use gaterouter_setup::format::dotenv;
use gaterouter_setup::gaterouter::key::ApiKey;
use gaterouter_setup::gaterouter::templates::Settings;
use gaterouter_setup::plan::{env_file, models_json, openclaw_json};

// ---------- .env ----------

fn env_line() -> impl Strategy<Value = String> {
    let name = prop_oneof![Just("GATEROUTER_API_KEY".to_owned()), "[A-Z][A-Z0-9_]{0,8}"];
    let value = prop_oneof![
        "[A-Za-z0-9_./:@+-]{0,12}",
        "[A-Za-z0-9 _./#$-]{0,10}".prop_map(|v| format!("\"{v}\"")),
        "[A-Za-z0-9 _./#$-]{0,10}".prop_map(|v| format!("'{v}'")),
    ];
    prop_oneof![
        "# [ -~]{0,20}".prop_map(|c| c),
        Just(String::new()),
        (
            any::<bool>(),
            name,
            prop_oneof![Just("="), Just(" = "), Just("=")],
            value,
            prop_oneof![Just(""), Just(" # note")]
        )
            .prop_map(|(export, n, eq, v, c)| format!(
                "{}{n}{eq}{v}{c}",
                if export { "export " } else { "" }
            )),
        "[ -~]{0,16}",
    ]
}

fn env_text() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(env_line(), 0..8),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, crlf, last)| {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut s = lines.join(eol);
            if last && !s.is_empty() {
                s.push_str(eol);
            }
            s
        })
}

fn not_ours(text: &str) -> Vec<(String, String)> {
    dotenv::parse(text)
        .into_iter()
        .filter(|e| e.name != "GATEROUTER_API_KEY")
        .map(|e| (e.name, e.value))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn env_editor_reads_back_keeps_the_rest_and_is_a_fixed_point(
        text in env_text(),
        key in "sk-[A-Za-z0-9_.:/+=@%~,!&;-]{8,40}",
    ) {
        let key = ApiKey::parse(&key).unwrap();
        let p = Path::new(".env");
        let before = (!text.is_empty()).then_some(text.as_str());
        match env_file::set_key(p, before, &key) {
            Err(e) => prop_assert!(e.to_string().starts_with(".env:"), "unclear error: {e}"),
            Ok(out) => {
                let read_back = env_file::current_key(p, &out).unwrap();
                prop_assert_eq!(read_back.as_deref(), Some(key.expose()));
                prop_assert_eq!(not_ours(&out), not_ours(&text));
                prop_assert_eq!(env_file::set_key(p, Some(&out), &key).unwrap(), out);
            }
        }
    }
}

// ---------- JSON5 ----------

/// Keys biased towards the paths the planner touches, so collisions and wrong types happen.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "agents", "defaults", "model", "models", "providers", "auth", "profiles", "gaterouter",
            "gaterouter:default", "primary", "fallbacks", "modelPolicy", "allow", "mode", "id", "name",
        ]).prop_map(str::to_owned),
        2 => "[a-z][a-zA-Z0-9_]{0,6}",
        1 => "[a-z]{1,4}[-/:.][a-z0-9.]{1,4}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..1000).prop_map(Value::from),
        prop_oneof!["[a-z]{1,6}/[a-z0-9.-]{1,8}", "[ -~]{0,10}"].prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

#[derive(Debug, Clone, Copy)]
struct Style {
    bare_keys: bool,
    single: bool,
    trailing: bool,
    comments: bool,
    indent: usize,
}

fn style() -> impl Strategy<Value = Style> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0usize..5,
    )
        .prop_map(|(bare_keys, single, trailing, comments, indent)| Style {
            bare_keys,
            single,
            trailing,
            comments,
            indent,
        })
}

fn quote(s: &str, single: bool) -> String {
    let json = serde_json::to_string(s).unwrap();
    if single && !s.contains(['\'', '\\', '"']) {
        format!("'{s}'")
    } else {
        json
    }
}

fn render(v: &Value, st: Style, depth: usize) -> String {
    let pad = " ".repeat(st.indent * (depth + 1));
    let end_pad = " ".repeat(st.indent * depth);
    let nl = if st.indent == 0 { "" } else { "\n" };
    let trail = if st.trailing && st.indent > 0 {
        ","
    } else {
        ""
    };
    match v {
        Value::Object(m) if !m.is_empty() => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| {
                    let bare = st.bare_keys
                        && k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    let k = if bare { k.clone() } else { quote(k, st.single) };
                    let c = if st.comments { "/* c */ " } else { "" };
                    format!("{pad}{c}{k}: {}", render(v, st, depth + 1))
                })
                .collect();
            format!(
                "{{{nl}{}{trail}{nl}{end_pad}}}",
                items.join(&format!(",{nl}"))
            )
        }
        Value::Array(a) if !a.is_empty() => {
            let items: Vec<String> = a
                .iter()
                .map(|v| format!("{pad}{}", render(v, st, depth + 1)))
                .collect();
            format!(
                "[{nl}{}{trail}{nl}{end_pad}]",
                items.join(&format!(",{nl}"))
            )
        }
        Value::String(s) => quote(s, st.single),
        other => other.to_string(),
    }
}

fn parse(text: &str) -> Value {
    jsonc_parser::cst::CstRootNode::parse(text, &Default::default())
        .expect("output parses as JSON5")
        .to_serde_value()
        .unwrap_or(Value::Object(Map::new()))
}

fn remove(v: &mut Value, path: &[&str]) {
    let (last, parents) = path.split_last().unwrap();
    let mut cur = v;
    for p in parents {
        match cur.get_mut(*p) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Some(o) = cur.as_object_mut() {
        o.shift_remove(*last);
    }
}

/// Drops what the planner owns from `after`, and containers it had to create, so what is
/// left must equal the input exactly.
fn strip_ours(before: &Value, mut after: Value, settings: &Settings, config: bool) -> Value {
    if config {
        remove(&mut after, &["agents", "defaults", "model"]);
        remove(&mut after, &["auth", "profiles", "gaterouter:default"]);
        remove(&mut after, &["models", "providers", "gaterouter"]);
    } else {
        remove(&mut after, &["providers", "gaterouter"]);
        return strip_created(before, after, &[("", "providers")]);
    }
    let mut refs = settings.refs();
    refs.push("gaterouter/*".into());
    if let Some(m) = after
        .pointer_mut("/agents/defaults/models")
        .and_then(Value::as_object_mut)
    {
        let had = before.pointer("/agents/defaults/models");
        m.retain(|k, _| !refs.contains(k) || had.and_then(|h| h.get(k)).is_some());
    }
    if let Some(a) = after
        .pointer_mut("/agents/defaults/modelPolicy/allow")
        .and_then(Value::as_array_mut)
    {
        let n = before
            .pointer("/agents/defaults/modelPolicy/allow")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        a.truncate(n);
    }
    strip_created(
        before,
        after,
        &[
            ("/agents", "defaults"),
            ("", "agents"),
            ("/auth", "profiles"),
            ("", "auth"),
            ("/models", "providers"),
            ("", "models"),
        ],
    )
}

/// Removes containers the planner created (absent before, empty once our entries are gone).
fn strip_created(before: &Value, mut after: Value, containers: &[(&str, &str)]) -> Value {
    for (parent, child) in containers {
        let existed = before.pointer(&format!("{parent}/{child}")).is_some();
        let empty = after
            .pointer(&format!("{parent}/{child}"))
            .is_some_and(|v| v.as_object().is_some_and(Map::is_empty));
        if !existed
            && empty
            && let Some(o) = after.pointer_mut(parent).and_then(Value::as_object_mut)
        {
            o.shift_remove(*child);
        }
    }
    after
}

fn strip_model(mut v: Value) -> Value {
    remove(&mut v, &["agents", "defaults", "model"]);
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn config_planner_is_clean_keeps_the_rest_and_is_a_fixed_point(
        doc in prop::collection::btree_map(key(), value(), 0..6),
        st in style(),
    ) {
        let before_v = Value::Object(doc.into_iter().collect());
        let text = render(&before_v, st, 0);
        let settings = Settings::builtin().unwrap();
        let p = Path::new("openclaw.json");
        match openclaw_json::plan(p, Some(&text), &settings) {
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.starts_with("openclaw.json"), "unclear error: {msg}");
                prop_assert!(msg.contains("nothing was changed"), "{msg}");
            }
            Ok(out) => {
                let after_v = parse(&out);
                prop_assert_eq!(
                    strip_ours(&before_v, after_v.clone(), &settings, true),
                    strip_model(before_v.clone()),
                    "a value we do not own changed:\n{}\n=>\n{}", text, out
                );
                prop_assert_eq!(after_v.pointer("/agents/defaults/model/primary"), Some(&Value::from("gaterouter/auto")));
                let again = openclaw_json::plan(p, Some(&out), &settings).unwrap();
                prop_assert_eq!(again, out);
            }
        }
    }

    #[test]
    fn models_planner_is_clean_keeps_the_rest_and_is_a_fixed_point(
        doc in prop::collection::btree_map(key(), value(), 0..5),
        st in style(),
    ) {
        let before_v = Value::Object(doc.into_iter().collect());
        let text = render(&before_v, st, 0);
        let settings = Settings::builtin().unwrap();
        let p = Path::new("models.json");
        match models_json::plan(p, Some(&text), &settings) {
            Err(e) => prop_assert!(e.to_string().starts_with("models.json"), "unclear error: {e}"),
            Ok(out) => {
                let after_v = parse(&out);
                let mut expect = before_v.clone();
                remove(&mut expect, &["providers", "gaterouter"]);
                prop_assert_eq!(strip_ours(&before_v, after_v, &settings, false), expect);
                prop_assert_eq!(models_json::plan(p, Some(&out), &settings).unwrap(), out);
            }
        }
    }
}
