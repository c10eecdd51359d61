//! OpenClaw's fingerprint of a config file and its test for a "suspicious" one (2026.9.6,
//! `dist/io.snapshot-*.mjs`: `createConfigHealthFingerprint`,
//! `resolveConfigObserveSuspiciousReasons`). Pure: bytes, a stat and a parse in, values out.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A baseline this size or larger may "shrink suspiciously" (`baseline.bytes >= 512`).
pub const SHRINK_FLOOR_BYTES: u64 = 512;

/// What OpenClaw stores as `lastKnownGood`, field for field and in its order. The stat
/// fields only decide whether OpenClaw re-records a file; the suspicious test reads
/// `bytes`, `hasMeta` and `gatewayMode`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fingerprint {
    /// sha256 hex of the text as OpenClaw reads it (UTF-8 decoded, so invalid bytes count
    /// as U+FFFD).
    pub hash: String,
    pub bytes: u64,
    pub mtime_ms: Option<f64>,
    pub ctime_ms: Option<f64>,
    pub dev: Option<String>,
    pub ino: Option<String>,
    pub mode: Option<u32>,
    pub nlink: Option<u64>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub has_meta: bool,
    pub gateway_mode: Option<String>,
    pub observed_at: String,
}

/// The three facts of a baseline OpenClaw compares with, from its JSON (a stored
/// `lastKnownGood`) or from a file (`.bak`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Baseline {
    pub bytes: u64,
    pub has_meta: bool,
    pub gateway_mode: Option<String>,
}

impl Baseline {
    /// A stored fingerprint; `None` when it is not a JSON object (OpenClaw ignores it too).
    pub fn from_json(json: &str) -> Option<Baseline> {
        let v: Value = serde_json::from_str(json).ok()?;
        let o = v.as_object()?;
        Some(Baseline {
            bytes: o.get("bytes").and_then(Value::as_f64).unwrap_or(0.0) as u64,
            has_meta: o.get("hasMeta").and_then(Value::as_bool).unwrap_or(false),
            gateway_mode: o
                .get("gatewayMode")
                .and_then(Value::as_str)
                .and_then(normal),
        })
    }
}

impl From<&Fingerprint> for Baseline {
    fn from(f: &Fingerprint) -> Baseline {
        Baseline {
            bytes: f.bytes,
            has_meta: f.has_meta,
            gateway_mode: f.gateway_mode.clone(),
        }
    }
}

/// `normalizeNullableString`: trimmed, and nothing when empty.
fn normal(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// The text OpenClaw reads (`readFile(…, "utf-8")`): Rust's lossy decoding replaces the
/// same maximal invalid subsequences with U+FFFD as the WHATWG decoder Node uses.
pub fn text(raw: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(raw)
}

/// `parseConfigJson5`, an unparsable file counting as `{}` (as OpenClaw's fingerprint does),
/// as far as the health check reads it (see [`shallow`]).
pub fn parsed(raw: &[u8]) -> Value {
    let text = text(raw);
    shallow(&text).unwrap_or_else(|| whole(&text))
}

fn whole(text: &str) -> Value {
    crate::format::json5::parse(text)
        .map_or_else(|_| Value::Object(Default::default()), |v| v.to_serde())
}

/// [`parsed`] building only what the health check reads: `meta`, `gateway` and `update`
/// whole, the other top-level members by name (as `null`). A config can be most of a
/// megabyte of model catalog, and this is read on every write. `None` (read it whole) when
/// an `$include` could be anywhere, which the include merge and `contains_include` need
/// whole: its key in the text, or an escape that could spell it; or when the top level is
/// not an object.
fn shallow(text: &str) -> Option<Value> {
    use crate::format::json5::{Document, Kind};
    const READ: &[&[&str]] = &[&["meta"], &["gateway"], &["update"]];
    if crate::format::json5::may_hold(text, crate::openclaw::include::KEY) {
        return None;
    }
    let Ok(doc) = Document::parse(text, Some(READ)) else {
        // The skip mode checks all of the text as the whole reading does.
        return Some(Value::Object(Default::default()));
    };
    let Kind::Object(members) = &doc.root.kind else {
        return None;
    };
    let mut v = doc.root.to_value()?.to_serde();
    let o = v.as_object_mut()?;
    for (k, _) in members.iter().filter_map(|m| m.key.as_ref()) {
        o.entry(k.to_lossy()).or_insert(Value::Null);
    }
    Some(v)
}

/// `hasConfigMeta`: `meta` is an object.
pub fn has_meta(parsed: &Value) -> bool {
    parsed.get("meta").is_some_and(Value::is_object)
}

/// `resolveGatewayMode`: `gateway.mode` as a non-empty string.
pub fn gateway_mode(config: &Value) -> Option<String> {
    config
        .get("gateway")
        .filter(|g| g.is_object())
        .and_then(|g| g.get("mode"))
        .and_then(Value::as_str)
        .and_then(normal)
}

/// The fingerprint OpenClaw's next load of `path` records: `raw` as written, the stat of
/// the file now on disk, `gatewayMode` from the config with its `$include`s merged (as
/// OpenClaw's observation reads it).
pub fn of_file(path: &Path, raw: &[u8], stat: Option<&std::fs::Metadata>) -> Fingerprint {
    let text = text(raw);
    let parsed = parsed(raw);
    let resolved =
        crate::openclaw::include::resolve(path, parsed.clone()).unwrap_or_else(|_| parsed.clone());
    let ms = |s: i64, ns: i64| s as f64 * 1000.0 + ns as f64 / 1e6;
    Fingerprint {
        hash: format!("{:x}", Sha256::digest(text.as_bytes())),
        bytes: text.len() as u64,
        mtime_ms: stat.map(|m| ms(m.mtime(), m.mtime_nsec())),
        ctime_ms: stat.map(|m| ms(m.ctime(), m.ctime_nsec())),
        dev: stat.map(|m| m.dev().to_string()),
        ino: stat.map(|m| m.ino().to_string()),
        mode: stat.map(|m| m.mode() & 0o777),
        nlink: stat.map(MetadataExt::nlink),
        uid: stat.map(MetadataExt::uid),
        gid: stat.map(MetadataExt::gid),
        has_meta: has_meta(&parsed),
        gateway_mode: gateway_mode(&resolved),
        observed_at: super::iso_millis(std::time::SystemTime::now()),
    }
}

/// The baseline a file gives when OpenClaw reads it as `.bak` (no includes merged: its
/// `createConfigFingerprintFromRead` parses the file alone).
pub fn of_backup(raw: &[u8]) -> Baseline {
    let parsed = parsed(raw);
    Baseline {
        bytes: text(raw).len() as u64,
        has_meta: has_meta(&parsed),
        gateway_mode: gateway_mode(&parsed),
    }
}

/// `resolveConfigObserveSuspiciousReasons`: why OpenClaw's next load would take `current`
/// (with `parsed`, its root object) for a clobbered config, compared with `baseline`.
/// Empty: it is accepted and becomes the new last-known-good.
pub fn suspicious(baseline: &Baseline, current: &Baseline, parsed: &Value) -> Vec<String> {
    let mut reasons = Vec::new();
    if baseline.bytes >= SHRINK_FLOOR_BYTES && current.bytes < baseline.bytes / 2 {
        reasons.push(format!(
            "size-drop-vs-last-good:{}->{}",
            baseline.bytes, current.bytes
        ));
    }
    if baseline.has_meta && !current.has_meta {
        reasons.push("missing-meta-vs-last-good".into());
    }
    if baseline.gateway_mode.is_some() && current.gateway_mode.is_none() {
        reasons.push("gateway-mode-missing-vs-last-good".into());
    }
    if baseline.gateway_mode.is_some() && update_channel_only(parsed) {
        reasons.push("update-channel-only-root".into());
    }
    reasons
}

/// `isUpdateChannelOnlyRoot`: `{ "update": { "channel": "…" } }` and nothing else.
fn update_channel_only(v: &Value) -> bool {
    let Some(o) = v.as_object() else { return false };
    o.len() == 1
        && o.get("update")
            .and_then(Value::as_object)
            .is_some_and(|u| u.len() == 1 && u.get("channel").is_some_and(Value::is_string))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shallow reading and the whole one agree on everything the health check reads.
    #[test]
    fn the_shallow_reading_agrees_with_the_whole_one() {
        let docs = [
            "{}",
            "{meta: {lastTouchedVersion: '2026.9.6'}, gateway: {mode: ' local '}, models: {providers: {a: {models: [1, 2, {x: 3}]}}}}",
            "{update: {channel: 'beta'}}",
            "{update: {channel: 'beta'}, other: [1]}",
            "{update: {channel: 'beta'}, update: {channel: 1}}",
            "{meta: 'no', gateway: {mode: ''}, meta: {}}",
            "{gateway: {mode: 'a'}, gateway: 3}",
            "[1, 2]",
            "'text'",
            "{a: ",
            "// only a comment\n{meta: {}, /* x */ gateway: {mode: 'remote'}}",
            "{$include: './x.json5', meta: {}}",
            "{'\\u0024include': './x.json5'}",
            "{nested: {deep: {$include: 'y'}}, gateway: {mode: 'local'}}",
        ];
        for d in docs {
            let (fast, full) = (parsed(d.as_bytes()), whole(d));
            let what = |v: &Value| {
                (
                    has_meta(v),
                    gateway_mode(v),
                    update_channel_only(v),
                    crate::openclaw::health::contains_include(v),
                )
            };
            assert_eq!(what(&fast), what(&full), "{d}");
        }
        // The large members are not built.
        let big = parsed(b"{meta: {}, models: {providers: {a: {models: [1, 2, 3]}}}}");
        assert_eq!(big, json!({"meta": {}, "models": null}));
    }

    fn b(bytes: u64, meta: bool, mode: Option<&str>) -> Baseline {
        Baseline {
            bytes,
            has_meta: meta,
            gateway_mode: mode.map(str::to_owned),
        }
    }

    /// OpenClaw's thresholds exactly: `bytes < floor(baseline * 0.5)` from a 512-byte
    /// baseline on; below it any shrink passes.
    #[test]
    fn the_shrink_rule_is_openclaws() {
        let p = json!({});
        let m = Some("local");
        assert!(suspicious(&b(511, true, m), &b(10, true, m), &p).is_empty());
        assert_eq!(
            suspicious(&b(512, true, m), &b(255, true, m), &p),
            ["size-drop-vs-last-good:512->255"]
        );
        assert!(suspicious(&b(512, true, m), &b(256, true, m), &p).is_empty());
        // floor(1025 * 0.5) = 512: 511 is a drop, 512 is not.
        assert!(!suspicious(&b(1025, true, m), &b(511, true, m), &p).is_empty());
        assert!(suspicious(&b(1025, true, m), &b(512, true, m), &p).is_empty());
        assert_eq!(
            suspicious(&b(100, true, m), &b(100, false, None), &p),
            [
                "missing-meta-vs-last-good",
                "gateway-mode-missing-vs-last-good"
            ]
        );
        assert_eq!(
            suspicious(
                &b(100, false, m),
                &b(100, false, m),
                &json!({"update": {"channel": "beta"}})
            ),
            ["update-channel-only-root"]
        );
    }

    #[test]
    fn the_fingerprint_reads_meta_mode_and_the_decoded_length() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("openclaw.json");
        let raw = b"{meta: {}, gateway: {mode: ' local '}, x: '\xff'}\n";
        std::fs::write(&p, raw).unwrap();
        let f = of_file(&p, raw, std::fs::metadata(&p).ok().as_ref());
        assert!(f.has_meta);
        assert_eq!(f.gateway_mode.as_deref(), Some("local"));
        // One invalid byte is read as U+FFFD: three bytes in UTF-8.
        assert_eq!(f.bytes, raw.len() as u64 + 2);
        assert_eq!(f.mode, Some(0o644 & !umask()));
        let v: Value = serde_json::to_value(&f).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "hash",
                "bytes",
                "mtimeMs",
                "ctimeMs",
                "dev",
                "ino",
                "mode",
                "nlink",
                "uid",
                "gid",
                "hasMeta",
                "gatewayMode",
                "observedAt"
            ]
        );
    }

    fn umask() -> u32 {
        let m = rustix::process::umask(rustix::fs::Mode::empty());
        rustix::process::umask(m);
        m.bits()
    }
}
