//! A private npm registry on 127.0.0.1 for the tests: verdaccio (from npm, installed by
//! scripts/npm-registry.sh into a cache outside the repo) with no uplink, so nothing is
//! fetched from the network, and its storage in the test's temp dir. Also npm itself, run
//! with an environment that holds nothing of the developer's (own HOME, userconfig, cache).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Where scripts/npm-registry.sh installs verdaccio, as it computes it.
pub fn verdaccio_cli() -> Option<PathBuf> {
    let cache = std::env::var_os("GATEROUTER_VERDACCIO_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(|c| Path::new(&c).join("gaterouter-setup/verdaccio"))
        })
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| Path::new(&h).join(".cache/gaterouter-setup/verdaccio"))
        })?;
    let cli = cache.join("node_modules/verdaccio/bin/verdaccio");
    cli.is_file().then_some(cli)
}

/// `node` and `npm` on PATH, as a user with Node has them.
pub fn has_node_and_npm() -> bool {
    ["node", "npm"].iter().all(|t| {
        Command::new(t)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

pub struct Registry {
    child: Child,
    port: u16,
    /// The npm userconfig every npm run of the test uses: this registry, with a token so
    /// `npm publish` sends its request (verdaccio lets anyone publish here).
    pub npmrc: PathBuf,
    home: PathBuf,
    log: PathBuf,
}

impl Registry {
    /// Starts verdaccio in `dir` (its config, storage and log live there) and waits until it
    /// answers. None when verdaccio is not installed.
    pub fn start(dir: &Path) -> Option<Registry> {
        let cli = verdaccio_cli()?;
        std::fs::create_dir_all(dir).unwrap();
        let config = dir.join("config.yaml");
        // No uplinks: a name this registry does not hold is a 404, never a trip to the
        // network. Anyone may read and publish (the registry lives only as long as the test).
        std::fs::write(
            &config,
            "storage: ./storage\n\
             auth:\n  htpasswd:\n    file: ./htpasswd\n    max_users: -1\n\
             uplinks: {}\n\
             packages:\n  '**':\n    access: $all\n    publish: $all\n    unpublish: $all\n\
             log: { type: stdout, format: pretty, level: warn }\n",
        )
        .unwrap();
        let log = dir.join("verdaccio.log");
        let home = dir.join("home");
        std::fs::create_dir_all(&home).unwrap();
        for attempt in 0..3 {
            // A free port: bound, then released for verdaccio (another process could take it
            // in between; then verdaccio fails to listen and we try another).
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut c = Command::new("node");
            c.arg(&cli)
                .arg("--config")
                .arg(&config)
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"))
                .current_dir(dir)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", &home)
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(&log).unwrap())
                .stderr(std::fs::File::create(dir.join("verdaccio.err")).unwrap());
            // Its own process group, so Drop stops verdaccio and anything it forked.
            std::os::unix::process::CommandExt::process_group(&mut c, 0);
            let child = c.spawn().expect("start verdaccio");
            let npmrc = dir.join("npmrc");
            std::fs::write(
                &npmrc,
                format!(
                    "registry=http://127.0.0.1:{port}/\n//127.0.0.1:{port}/:_authToken=test-only\n"
                ),
            )
            .unwrap();
            let mut reg = Registry {
                child,
                port,
                npmrc,
                home: home.clone(),
                log: log.clone(),
            };
            if reg.wait_ready(Duration::from_secs(30)) {
                return Some(reg);
            }
            eprintln!(
                "verdaccio did not answer on port {port} (attempt {attempt}): {}",
                std::fs::read_to_string(dir.join("verdaccio.err")).unwrap_or_default()
            );
        }
        panic!("verdaccio did not start; see {}", log.display());
    }

    fn wait_ready(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::{Read, Write};
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = s.write_all(b"GET /-/ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
                let mut b = String::new();
                let _ = s.read_to_string(&mut b);
                if b.starts_with("HTTP/1.1 200") || b.starts_with("HTTP/1.0 200") {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// npm with this registry and nothing of the developer's: its own HOME, userconfig and
    /// cache (`cache` is per test, so a first install really downloads from the registry).
    pub fn npm_env(&self, c: &mut Command, home: &Path, cache: &Path) {
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("NO_COLOR", "1")
            .env("npm_config_userconfig", &self.npmrc)
            .env("npm_config_registry", self.url())
            .env("npm_config_cache", cache)
            .env("npm_config_update_notifier", "false")
            .env("npm_config_audit", "false")
            .env("npm_config_fund", "false")
            .env("npm_config_loglevel", "error");
    }

    /// `npm publish TARBALL` to this registry.
    pub fn publish(&self, tarball: &Path) {
        let mut c = Command::new("npm");
        c.arg("publish").arg(tarball).arg("--access").arg("public");
        self.npm_env(
            c.current_dir(&self.home),
            &self.home,
            &self.home.join("npm-cache"),
        );
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "npm publish {}: {}\n{}",
            tarball.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(g) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process_group(g, rustix::process::Signal::KILL);
        }
        let _ = self.child.wait();
    }
}

/// The tarballs scripts/npm-pack.sh wrote, in the order it printed them (platform packages
/// first, the launcher last).
pub fn npm_pack(out_dir: &Path, args: &[&str]) -> (Output, Vec<PathBuf>) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/npm-pack.sh");
    let out = Command::new("bash")
        .arg(script)
        .args(args)
        .arg(out_dir)
        .env("npm_config_update_notifier", "false")
        .output()
        .unwrap();
    let files = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(PathBuf::from)
        .collect();
    (out, files)
}
