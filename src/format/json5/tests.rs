//! Cases checked by hand against json5 2.2.3; the differential test covers the open space.

use super::*;

fn ok(t: &str) -> Value {
    parse(t).unwrap_or_else(|e| panic!("{t:?}: {e}"))
}

fn err(t: &str) -> String {
    parse(t).expect_err(t).to_string()
}

fn num(t: &str) -> f64 {
    match ok(t) {
        Value::Number(n) => n,
        v => panic!("{v:?}"),
    }
}

#[test]
fn u2028_ends_a_line_comment() {
    let v = ok("{model: 'a', // old\u{2028}model: 'b'}");
    assert_eq!(v.get("model").and_then(Value::as_str), Some("b"));
}

#[test]
fn raw_cr_or_lf_in_a_string_is_an_error() {
    assert_eq!(err("{a: 'x\ry'}"), "JSON5: invalid character '\\r' at 1:7");
    assert_eq!(err("{a: 'x\ny'}"), "JSON5: invalid character '\\n' at 2:0");
    // …but U+2028, tabs and other controls are taken as they are.
    assert_eq!(ok("'a\u{2028}\t\u{1}'").as_str(), Some("a\u{2028}\t\u{1}"));
}

#[test]
fn numbers_are_javascript_doubles() {
    assert_eq!(num("Infinity"), f64::INFINITY);
    assert_eq!(num("-Infinity"), f64::NEG_INFINITY);
    assert!(num("NaN").is_nan() && num("-NaN").is_nan());
    assert_eq!(num("0x1F"), 31.0);
    assert_eq!(num("-0x10"), -16.0);
    assert_eq!(num("+1"), 1.0);
    assert_eq!(num(".5"), 0.5);
    assert_eq!(num("5."), 5.0);
    assert_eq!(num("1.e2"), 100.0);
    assert!(num("-0").is_sign_negative());
    assert_eq!(num("9007199254740993"), 9007199254740992.0);
    // 2^53 + 1 in hex, ties to even; and beyond, the sticky tail rounds up.
    assert_eq!(num("0x20000000000001"), 9007199254740992.0);
    assert_eq!(
        num("0x200000000000010000001"),
        2f64.powi(81) + 2f64.powi(29)
    );
    assert_eq!(num(&format!("0x{}", "f".repeat(300))), f64::INFINITY);
    assert_eq!(err("01"), "JSON5: invalid character '1' at 1:2");
    assert_eq!(err("0x"), "JSON5: invalid end of input at 1:3");
    assert_eq!(err("- 1"), "JSON5: invalid character ' ' at 1:2");
    assert_eq!(err("1e"), "JSON5: invalid end of input at 1:3");
}

#[test]
fn escapes() {
    assert_eq!(ok(r"'\x41\u0042\a\'\0'").as_str(), Some("ABa'\0"));
    assert_eq!(ok("'a\\\r\nb\\\u{2028}c'").as_str(), Some("abc"));
    assert_eq!(err(r"'\01'"), "JSON5: invalid character '1' at 1:4");
    assert_eq!(err(r"'\1'"), "JSON5: invalid character '1' at 1:3");
    assert_eq!(err(r"'\x4'"), "JSON5: invalid character '\\'' at 1:5");
    // Surrogate escapes pair up, even across a line continuation; a lone one is kept.
    assert_eq!(ok(r"'\uD83D\uDE00'").as_str(), Some("😀"));
    assert_eq!(ok("'\\uD83D\\\n\\uDE00'").as_str(), Some("😀"));
    let lone = ok(r"'\uD800x'");
    assert_eq!(lone.as_str(), None);
    assert!(matches!(&lone, Value::String(s) if s.to_units() == [0xd800, 0x78]));
}

#[test]
fn keys() {
    let v = ok("{\\u0061b: 1, $_: 2, café: 3, 'q': 4, \"__proto__\": 5, a: 6, ab: 7}");
    let o = v.as_object().unwrap();
    let keys: Vec<String> = o.iter().map(|(k, _)| k.to_lossy()).collect();
    assert_eq!(keys, ["ab", "$_", "café", "q", "__proto__", "a"]);
    assert!(matches!(o.get("ab"), Some(Value::Number(n)) if *n == 7.0));
    assert_eq!(
        err("{\\u0030: 1}"),
        "JSON5: invalid identifier character at 1:2"
    );
    assert_eq!(
        err("{a\\u002d: 1}"),
        "JSON5: invalid identifier character at 1:3"
    );
    assert_eq!(err("{1: 1}"), "JSON5: invalid character '1' at 1:2");
}

#[test]
fn javascript_key_order() {
    let v = ok("{b: 1, '10': 2, '2': 3, '01': 4, a: 5}");
    let keys: Vec<String> = v
        .as_object()
        .unwrap()
        .iter_js()
        .into_iter()
        .map(|(k, _)| k.to_lossy())
        .collect();
    assert_eq!(keys, ["2", "10", "b", "01", "a"]);
}

#[test]
fn whitespace_and_comments() {
    assert!(
        ok("\u{feff}{\u{feff}a\u{a0}:\u{2029}1\u{3000}/* x */}// end")
            .get("a")
            .is_some()
    );
    assert_eq!(err("{a: 1} /"), "JSON5: invalid end of input at 1:9");
    assert_eq!(err("{a: 1 /* x"), "JSON5: invalid end of input at 1:11");
    assert_eq!(err(""), "JSON5: invalid end of input at 1:1");
    assert_eq!(err("{a: 1\n,,}"), "JSON5: invalid character ',' at 2:2");
}

#[test]
fn trailing_commas_and_top_level_scalars() {
    assert_eq!(ok("[1, 2,]").as_array().map(<[Value]>::len), Some(2));
    assert!(ok("{a: 1,}").get("a").is_some());
    assert_eq!(err("[,]"), "JSON5: invalid character ',' at 1:2");
    assert_eq!(ok(" 'x' ").as_str(), Some("x"));
    assert_eq!(err("1 2"), "JSON5: invalid character '2' at 1:3");
}

#[test]
fn columns_count_utf16_units() {
    assert_eq!(err("'😀' x"), "JSON5: invalid character 'x' at 1:6");
}

#[test]
fn nesting_is_bounded_without_recursion() {
    let ok_deep = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(parse(&ok_deep).is_ok());
    let too_deep = "[".repeat(100_000);
    let e = parse(&too_deep).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooDeep);
    assert_eq!(e.column, MAX_DEPTH + 1);
}

#[test]
fn projection_builds_only_kept_paths_and_checks_everything() {
    let t = "{a: {b: {c: 1, d: 2}, x: [1]}, y: 'z', a: {b: {c: 3}}}";
    let keep: &[&[&str]] = &[&["a", "b", "c"]];
    let p = parse_projected(t, keep).unwrap().unwrap();
    assert_eq!(p, ok("{a: {b: {c: 3}}}"));
    assert_eq!(Some(p), project(&ok(t), keep));
    assert!(parse_projected("{y: 'a\rb'}", keep).is_err());
    assert_eq!(parse_projected("{y: 1}", &[]).unwrap(), None);
    assert_eq!(
        parse_projected("{y: 1}", &[&[]]).unwrap(),
        Some(ok("{y: 1}"))
    );
}

#[test]
fn to_serde_keeps_plain_data() {
    let v = ok("{b: 1, a: [true, null, 'x', 1.5, -0, Infinity]}");
    assert_eq!(
        v.to_serde().to_string(),
        r#"{"b":1,"a":[true,null,"x",1.5,-0.0,null]}"#
    );
}

#[test]
fn unclosed_strings_and_comments_say_where_they_began() {
    let e = parse("{\n  a: 'open,\n}").unwrap_err();
    assert_eq!(e.to_string(), "JSON5: invalid character '\\n' at 3:0");
    assert_eq!(
        e.explain(),
        "invalid character '\\n' (the string opened at 2:6 is not closed)"
    );
    let e = parse("{a: 1, /* x\n\n").unwrap_err();
    assert_eq!(
        e.explain(),
        "invalid end of input (the /* comment opened at 1:8 is not closed)"
    );
}
