//! Hostile inputs: each one gets one clear, one-paragraph error naming the file (and the
//! place in it), exit 1, and leaves the whole tree byte-for-byte as it was.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::*;

/// Runs setup on a copy of the `onboarded` fixture after `prepare` has made it hostile.
fn refused(prepare: impl FnOnce(&Path), args: &[&str], want: &[&str]) {
    let (tmp, root) = root_from("onboarded");
    prepare(&root);
    let before = snapshot(tmp.path());
    let out = cmd(tmp.path())
        .args(["--offline", "--yes"])
        .args(args)
        .arg(&root)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit code; stderr:\n{err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one paragraph, got:\n{err}"
    );
    for w in want {
        assert!(err.contains(w), "want {w:?} in:\n{err}");
    }
    assert_no_key(&out, KEY);
    assert_eq!(snapshot(tmp.path()), before, "the tree changed:\n{err}");
}

fn write(rel: &'static str, body: &'static str) -> impl FnOnce(&Path) {
    move |root: &Path| std::fs::write(root.join(rel), body).unwrap()
}

fn write_bytes(rel: &'static str, body: Vec<u8>) -> impl FnOnce(&Path) {
    move |root: &Path| std::fs::write(root.join(rel), body).unwrap()
}

macro_rules! hostile {
    ($name:ident, $prepare:expr, [$($want:expr),+ $(,)?]) => {
        #[test]
        fn $name() {
            refused($prepare, &[KEY], &[$($want),+]);
        }
    };
    ($name:ident, $prepare:expr, args = [$($arg:expr),*], [$($want:expr),+ $(,)?]) => {
        #[test]
        fn $name() {
            refused($prepare, &[$($arg),*], &[$($want),+]);
        }
    };
}

// Broken JSON / JSON5.
hostile!(
    truncated_json,
    write("openclaw.json", "{\"agents\": {\"defaults\": {"),
    ["openclaw.json:1:", "not valid JSON5"]
);
hostile!(
    unterminated_block_comment,
    write("openclaw.json", "{\n  /* note\n  \"a\": 1\n}\n"),
    // json5's position (what OpenClaw reports): the end of the file.
    [
        "openclaw.json:5:1: not valid JSON5: invalid end of input (the /* comment opened at 2:3 is not closed)"
    ]
);
hostile!(
    missing_comma_between_members,
    write("openclaw.json", "{\n  a: 1\n  b: 2\n}\n"),
    ["openclaw.json:3:3: not valid JSON5: invalid character 'b'"]
);
hostile!(
    unterminated_single_quoted_string,
    write("openclaw.json", "{ a: 'open }\n"),
    [
        "openclaw.json:2:0: not valid JSON5: invalid character '\\n' (the string opened at 1:6 is not closed)"
    ]
);
hostile!(
    bad_escape,
    write("openclaw.json", "{ \"a\": \"\\u12\" }"),
    ["openclaw.json:1:", "not valid JSON5"]
);
hostile!(
    trailing_garbage,
    write("openclaw.json", "{}\n}\n"),
    ["openclaw.json:2:", "not valid JSON5"]
);
hostile!(
    two_top_level_values,
    write("openclaw.json", "{} {}"),
    ["openclaw.json:1:", "not valid JSON5"]
);
hostile!(
    bare_word_value,
    write("openclaw.json", "{ a: yes }"),
    ["openclaw.json:1:", "not valid JSON5"]
);

// Wrong shapes.
hostile!(
    root_is_an_array,
    write("openclaw.json", "[1, 2]"),
    ["`(top level)` must be an object, but it is an array"]
);
hostile!(
    root_is_a_string,
    write("openclaw.json", "\"hello\""),
    ["`(top level)` must be an object, but it is a string"]
);
hostile!(
    agents_is_a_string,
    write("openclaw.json", "{ \"agents\": \"all\" }"),
    ["`agents` must be an object, but it is a string"]
);
hostile!(
    defaults_is_null,
    write("openclaw.json", "{ \"agents\": { \"defaults\": null } }"),
    ["`agents.defaults` must be an object, but it is null"]
);
hostile!(
    model_is_a_number,
    write(
        "openclaw.json",
        "{ \"agents\": { \"defaults\": { \"model\": 3 } } }"
    ),
    [
        "`agents.defaults.model` must be a string or an object {primary, fallbacks}, but it is the number 3"
    ]
);
hostile!(
    model_is_an_array,
    write(
        "openclaw.json",
        "{ \"agents\": { \"defaults\": { \"model\": [\"a/b\"] } } }"
    ),
    [
        "`agents.defaults.model` must be a string or an object",
        "an array"
    ]
);
hostile!(
    model_primary_is_a_number,
    write(
        "openclaw.json",
        "{ \"agents\": { \"defaults\": { \"model\": { \"primary\": 1 } } } }"
    ),
    ["`agents.defaults.model.primary` must be a string, but it is the number 1"]
);
hostile!(
    model_has_an_unknown_member,
    write(
        "openclaw.json",
        "{\n  \"agents\": {\n    \"defaults\": {\n      \"model\": { \"primary\": \"a/b\", \"fallback\": [\"c/d\"] }\n    }\n  }\n}\n"
    ),
    [
        "openclaw.json:4: `agents.defaults.model.fallback` must be absent (the model object takes only `primary` and `fallbacks`)"
    ]
);
hostile!(
    fallbacks_is_an_object,
    write(
        "openclaw.json",
        "{ \"agents\": { \"defaults\": { \"model\": { \"fallbacks\": {} } } } }"
    ),
    ["`agents.defaults.model.fallbacks` must be an array, but it is an object"]
);
hostile!(
    fallback_entry_is_null,
    write(
        "openclaw.json",
        "{ \"agents\": { \"defaults\": { \"model\": { \"fallbacks\": [\"a/b\", null] } } } }"
    ),
    ["`agents.defaults.model.fallbacks[1]` must be a string, but it is null"]
);
hostile!(
    providers_is_an_array,
    write("openclaw.json", "{ \"models\": { \"providers\": [] } }"),
    ["`models.providers` must be an object, but it is an array"]
);
hostile!(
    gaterouter_provider_is_a_string,
    write(
        "openclaw.json",
        "{ \"models\": { \"providers\": { \"gaterouter\": \"on\" } } }"
    ),
    ["`models.providers.gaterouter` must be an object, but it is a string"]
);
hostile!(
    gaterouter_models_is_an_object,
    write(
        "openclaw.json",
        "{ \"models\": { \"providers\": { \"gaterouter\": { \"models\": {} } } } }"
    ),
    ["`models.providers.gaterouter.models` must be an array"]
);
hostile!(
    gaterouter_model_entry_is_a_string,
    write(
        "openclaw.json",
        "{ \"models\": { \"providers\": { \"gaterouter\": { \"models\": [\"auto\"] } } } }"
    ),
    [
        "`models.providers.gaterouter.models[0]` must be an object with `id` and `name`, but it is a string"
    ]
);
hostile!(
    auth_profiles_is_an_array,
    write("openclaw.json", "{ \"auth\": { \"profiles\": [] } }"),
    ["`auth.profiles` must be an object, but it is an array"]
);
hostile!(
    model_allowlist_is_an_array,
    write(
        "openclaw.json",
        "{ \"agents\": { \"defaults\": { \"models\": [\"a/b\"] } } }"
    ),
    ["`agents.defaults.models` must be an object, but it is an array"]
);
hostile!(
    model_policy_allow_is_a_string,
    write(
        "openclaw.json",
        "{ \"agents\": { \"defaults\": { \"modelPolicy\": { \"allow\": \"*\" } } } }"
    ),
    ["`agents.defaults.modelPolicy.allow` must be an array, but it is a string"]
);
hostile!(
    duplicate_keys_on_our_path,
    write(
        "openclaw.json",
        "{\n  \"agents\": {},\n  \"agents\": { \"defaults\": {} }\n}\n"
    ),
    ["openclaw.json:3: `agents` appears more than once"]
);
hostile!(
    models_json_is_an_array,
    write("agents/main/agent/models.json", "[]"),
    [
        "agents/main/agent/models.json",
        "`(top level)` must be an object"
    ]
);
hostile!(
    models_json_providers_is_a_number,
    write("agents/main/agent/models.json", "{\"providers\": 1}"),
    [
        "agents/main/agent/models.json",
        "`providers` must be an object, but it is the number 1"
    ]
);

// Sizes and depth.
hostile!(
    config_of_50_mb,
    |root: &Path| {
        let mut s = String::from("{\"pad\": [");
        while s.len() < 50_000_000 {
            s.push_str("\"0123456789012345678901234567890123456789\",");
        }
        s.push_str("0]}");
        std::fs::write(root.join("openclaw.json"), s).unwrap();
    },
    ["openclaw.json: is 50.0 MB; gaterouter-setup edits files up to 16 MB"]
);
hostile!(
    nesting_100_000_deep,
    write_bytes(
        "openclaw.json",
        format!("{{\"a\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes()
    ),
    ["openclaw.json:1:", "nested more than 512 levels deep"]
);
hostile!(
    env_over_1_mb,
    write_bytes(".env", vec![b'#'; 1_100_000]),
    [".env: is 1100000 bytes, and OpenClaw ignores a .env over 1 MB"]
);

// Bytes that are not text.
hostile!(
    non_utf8_config,
    write_bytes("openclaw.json", b"{\"name\": \"\xff\xfe\"}".to_vec()),
    ["openclaw.json: is not UTF-8 text (invalid byte at offset 10, line 1)"]
);
hostile!(
    nul_byte_in_env,
    write_bytes(".env", b"A=1\nB=\x00\n".to_vec()),
    [".env: contains a NUL byte (offset 6, line 2)"]
);

// Keys that dotenv would not read back as written.
hostile!(
    key_with_newline,
    |_: &Path| {},
    args = ["sk-or-v1-abc\ndef-000000"],
    ["the API key contains a control character"]
);
hostile!(
    key_with_quote,
    |_: &Path| {},
    args = ["sk-or-v1-abc'def-000000"],
    ["the API key contains a quote at character 13"]
);
hostile!(
    key_with_space,
    |_: &Path| {},
    args = ["sk-or-v1-abc def-000000"],
    ["the API key contains whitespace at character 13"]
);
hostile!(
    key_with_dollar,
    |_: &Path| {},
    args = ["sk-or-v1-abc$def-000000"],
    ["the API key contains `$`"]
);
hostile!(
    key_with_hash,
    |_: &Path| {},
    args = ["sk-or-v1-abc#def-000000"],
    ["the API key contains `#`"]
);

// The file system itself.
hostile!(
    dangling_config_symlink,
    |root: &Path| {
        std::fs::remove_file(root.join("openclaw.json")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/openclaw.json", root.join("openclaw.json"))
            .unwrap();
    },
    ["openclaw.json: is a symlink to /nonexistent/openclaw.json, which does not exist"]
);
hostile!(
    read_only_config,
    |root: &Path| std::fs::set_permissions(
        root.join("openclaw.json"),
        std::fs::Permissions::from_mode(0o444)
    )
    .unwrap(),
    ["openclaw.json: is read-only (mode 444)"]
);
hostile!(
    read_only_agent_directory,
    |root: &Path| {
        std::fs::remove_file(root.join("agents/main/agent/models.json")).unwrap();
        std::fs::set_permissions(
            root.join("agents/main/agent"),
            std::fs::Permissions::from_mode(0o555),
        )
        .unwrap();
    },
    ["agents/main/agent: is a read-only directory (mode 555)"]
);
hostile!(
    config_is_a_directory,
    |root: &Path| {
        std::fs::remove_file(root.join("openclaw.json")).unwrap();
        std::fs::create_dir(root.join("openclaw.json")).unwrap();
    },
    ["openclaw.json: is a directory where a file was expected"]
);

#[test]
fn root_is_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("openclaw.json");
    std::fs::write(&f, "{}").unwrap();
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", KEY])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("is not a directory; pass the directory that holds openclaw.json")
    );
    assert_eq!(std::fs::read(&f).unwrap(), b"{}");
}

#[test]
fn missing_root() {
    let tmp = tempfile::tempdir().unwrap();
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", KEY])
        .arg(tmp.path().join("nope"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("does not exist"));
    assert!(!tmp.path().join("nope").exists());
}

// Not errors: handled, and nothing of the user's is lost.

#[test]
fn utf8_bom_is_kept() {
    let (tmp, root) = root_from("onboarded");
    let body = std::fs::read(root.join("openclaw.json")).unwrap();
    std::fs::write(
        root.join("openclaw.json"),
        [b"\xef\xbb\xbf".as_slice(), &body].concat(),
    )
    .unwrap();
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", KEY])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        std::fs::read(root.join("openclaw.json"))
            .unwrap()
            .starts_with(b"\xef\xbb\xbf{")
    );
}

#[test]
fn foreign_fields_in_our_provider_are_kept() {
    let (tmp, root) = root_from("onboarded");
    std::fs::write(
        root.join("openclaw.json"),
        r#"{ "models": { "providers": { "gaterouter": { "headers": { "X-Team": "blue" }, "timeoutSeconds": 90, "models": [ { "id": "auto", "name": "Mine", "contextWindow": 200000 } ] } } } }"#,
    )
    .unwrap();
    let out = cmd(tmp.path())
        .args(["--offline", "--yes", KEY])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("openclaw.json")).unwrap())
            .unwrap();
    let p = &v["models"]["providers"]["gaterouter"];
    assert_eq!(p["headers"]["X-Team"], "blue");
    assert_eq!(p["timeoutSeconds"], 90);
    assert_eq!(
        p["models"][0],
        serde_json::json!({"id": "auto", "name": "Mine", "contextWindow": 200000})
    );
    assert_eq!(
        p["apiKey"],
        serde_json::json!({"source": "env", "provider": "default", "id": "GATEROUTER_API_KEY"})
    );
}

#[test]
fn include_defining_models_is_warned_about() {
    let (tmp, root) = root_from("include-and-vars");
    std::fs::write(root.join("shared.json5"), "{ models: { providers: {} } }").unwrap();
    let out = cmd(tmp.path())
        .args(["--offline", "--dry-run", KEY])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("shared.json5 (included by openclaw.json) also defines `models`"),
        "{err}"
    );
}

/// Runs `sh -c script` (with `$BIN` and `$ROOT` set) and returns its output, failing when
/// it takes longer than `limit`: an unbounded read would run until memory ran out.
fn bounded_sh(
    script: &str,
    root: &Path,
    home: &Path,
    limit: std::time::Duration,
) -> std::process::Output {
    let mut child = std::process::Command::new("sh")
        .args(["-c", script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env("BIN", env!("CARGO_BIN_EXE_gaterouter-setup"))
        .env("ROOT", root)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("`{script}` still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// `--api-key-stdin` reads one line, at most 4 KB: an endless stream with line breaks
/// gives its first line at once, one without them is refused quickly with a clear error.
#[test]
fn api_key_stdin_reads_one_bounded_line() {
    let limit = std::time::Duration::from_secs(20);
    let (tmp, root) = root_from("onboarded");
    let out = bounded_sh(
        &format!("yes {KEY} | \"$BIN\" --offline --yes --api-key-stdin \"$ROOT\""),
        &root,
        tmp.path(),
        limit,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let env = std::fs::read_to_string(root.join(".env")).unwrap();
    assert!(
        env.contains(&format!("GATEROUTER_API_KEY={KEY}\n")),
        "{env}"
    );
    assert_no_key(&out, KEY);
    for source in [
        "\"$BIN\" --offline --yes --api-key-stdin \"$ROOT\" < /dev/zero",
        "yes | tr -d '\\n' | \"$BIN\" --offline --yes --api-key-stdin \"$ROOT\"",
        "\"$BIN\" probe --api-key-stdin < /dev/zero",
    ] {
        let (tmp, root) = root_from("onboarded");
        let before = snapshot(tmp.path());
        let out = bounded_sh(source, &root, tmp.path(), limit);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{source}: {err}");
        assert!(err.contains("longer than 4096 bytes"), "{source}: {err}");
        assert_eq!(snapshot(tmp.path()), before, "{source}");
    }
}
