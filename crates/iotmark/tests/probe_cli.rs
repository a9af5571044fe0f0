//! `iotmark scan` then `iotmark probe --image-evidence` then `iotmark assess`, as a lab runs
//! them: the image holds a dropbear host key and a TLS certificate with its key; a running
//! dropbear and an `openssl s_server` present those keys, a second dropbear a key of its own.
//! The probe must name the two baked-in keys and pass the third, bind its evidence to the
//! image, and the assessment must count that evidence against EN 303 645 5.4-4 (unique
//! per-device secrets). Then the UDP discovery, each device on a LAN of its own
//! (`scripts/device-netns.sh`): miniupnpd mapping ports for anyone and refusing, and
//! avahi-daemon advertising a camera.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, telnet_image};

/// A server process, killed on drop.
struct Daemon(Child);

impl Daemon {
    fn start(program: &str, args: &[&str], port: u16) -> Daemon {
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program} (scripts/test.sh installs it): {e}"));
        let daemon = Daemon(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "{program} did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        daemon
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn dropbear_key(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    run(Command::new("dropbearkey")
        .args(["-t", "ed25519", "-f"])
        .arg(path));
}

fn iotmark() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("iotmark").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

#[test]
fn keys_baked_into_the_image_are_recognised_on_the_running_device_and_assessed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let root = d.join("rootfs");
    // The image's keys: a dropbear host key, and a TLS certificate with its EC key.
    dropbear_key(&root.join("etc/dropbear/dropbear_ed25519_host_key"));
    std::fs::create_dir_all(root.join("etc/ssl")).unwrap();
    run(Command::new("openssl")
        .current_dir(root.join("etc/ssl"))
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args([
            "-keyout",
            "device.key",
            "-out",
            "device.pem",
            "-days",
            "30",
            "-nodes",
        ])
        .args(["-subj", "/CN=camera.local"]));
    let image = telnet_image(d, &[]);
    let evidence = d.join("evidence");
    iotmark()
        .arg("scan")
        .arg(&image)
        .args(["--component", "camera", "--out"])
        .arg(&evidence)
        .assert()
        .success();
    let keys_file = std::fs::read_dir(&evidence)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".keys.json"))
        .expect("the scan writes image-*.keys.json");
    let keys: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&keys_file).unwrap()).unwrap();
    let image_sha256 = keys["image_sha256"].as_str().unwrap().to_owned();
    let files: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["file"].as_str().unwrap())
        .collect();
    assert!(
        files.contains(&"etc/dropbear/dropbear_ed25519_host_key")
            && files.contains(&"etc/ssl/device.pem")
            && files.contains(&"etc/ssl/device.key"),
        "{keys:#}"
    );

    // The device runs with the image's keys; a second SSH server has a key of its own.
    let (ssh, tls, own) = (free_port(), free_port(), free_port());
    let host_key = root.join("etc/dropbear/dropbear_ed25519_host_key");
    let own_key = d.join("own/dropbear_ed25519_host_key");
    dropbear_key(&own_key);
    let _servers = [
        Daemon::start(
            "dropbear",
            &[
                "-F",
                "-E",
                "-s",
                "-p",
                &format!("127.0.0.1:{ssh}"),
                "-r",
                host_key.to_str().unwrap(),
            ],
            ssh,
        ),
        Daemon::start(
            "dropbear",
            &[
                "-F",
                "-E",
                "-s",
                "-p",
                &format!("127.0.0.1:{own}"),
                "-r",
                own_key.to_str().unwrap(),
            ],
            own,
        ),
        Daemon::start(
            "openssl",
            &[
                "s_server",
                "-accept",
                &format!("127.0.0.1:{tls}"),
                "-cert",
                root.join("etc/ssl/device.pem").to_str().unwrap(),
                "-key",
                root.join("etc/ssl/device.key").to_str().unwrap(),
                "-quiet",
            ],
            tls,
        ),
    ];
    let out = iotmark()
        .args([
            "probe",
            "127.0.0.1",
            "--ports",
            &format!("{ssh},{tls},{own}"),
        ])
        .args([
            "--component",
            "camera",
            "--read-timeout",
            "1500",
            "--image-evidence",
        ])
        .arg(&evidence)
        .arg("--out")
        .arg(&evidence)
        .arg("--json")
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let image_key = |port: u16| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == "probe.keys.image-key" && f["port"] == port)
            .unwrap_or_else(|| panic!("no image-key finding on {port}: {report:#}"))
            .clone()
    };
    let f = image_key(ssh);
    assert_eq!(f["result"], "fail", "{f}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("baked into the firmware at etc/dropbear/dropbear_ed25519_host_key"),
        "{f}"
    );
    let f = image_key(tls);
    assert_eq!(f["result"], "fail", "{f}");
    let m = f["message"].as_str().unwrap();
    assert!(
        m.contains("`CN=camera.local`") && m.contains("etc/ssl/device.pem"),
        "{f}"
    );
    let f = image_key(own);
    assert_eq!(f["result"], "pass", "{f}");

    // The evidence is bound to the scanned image without --image-sha256.
    let records: serde_json::Value =
        serde_json::from_slice(&std::fs::read(evidence.join("probe-127-0-0-1.json")).unwrap())
            .unwrap();
    assert!(
        records
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["subject"]["sha256"] == image_sha256.as_str()),
        "{records:#}"
    );

    // The assessment of a product running that image counts the probe's evidence.
    let example = common::repo().join("examples/acme-securecam/declaration.yaml");
    let declaration = std::fs::read_to_string(example).unwrap().replace(
        "9f2c1e7b4a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a",
        &image_sha256,
    );
    std::fs::write(d.join("declaration.yaml"), declaration).unwrap();
    let out = iotmark()
        .arg("assess")
        .arg(d.join("declaration.yaml"))
        .args([
            "--scheme",
            "en303645-self-declaration",
            "--date",
            "2026-12-06",
            "--evidence",
        ])
        .arg(&evidence)
        .arg("--json")
        .output()
        .unwrap();
    let assessment: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let finding = assessment["assessment"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["requirement"] == "en303645-5.4-4")
        .unwrap()
        .clone();
    assert_eq!(finding["status"], "not-satisfied", "{finding:#}");
    let cited: Vec<&str> = finding["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert!(
        cited.iter().any(|id| id.starts_with("probe-127-0-0-1-")),
        "the probe's evidence is cited: {finding:#}"
    );
}

/// A device on a LAN of its own (`scripts/device-netns.sh`): miniupnpd or avahi-daemon in a
/// network namespace, removed on drop.
struct Lan(String);

impl Lan {
    fn up(mode: &str) -> Lan {
        let name = format!("iotmark-{}-{mode}", std::process::id());
        let script = common::repo().join("scripts/device-netns.sh");
        let out = Command::new("bash")
            .arg(&script)
            .args(["up", &name, mode])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        Lan(name)
    }

    /// `iotmark probe` run inside the namespace, on a closed TCP port only, so what it finds
    /// is the discovery server's.
    fn probe(&self) -> (Option<i32>, serde_json::Value) {
        self.probe_with(&[])
    }

    fn probe_with(&self, extra: &[&str]) -> (Option<i32>, serde_json::Value) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.0])
            .arg(assert_cmd::cargo::cargo_bin("iotmark"))
            .args(["probe", "192.168.77.1", "--ports", "22", "--json"])
            .args(extra)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let report = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), report)
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(common::repo().join("scripts/device-netns.sh"))
            .args(["down", &self.0])
            .output();
    }
}

fn finding_of(report: &serde_json::Value, check: &str) -> serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check} finding: {report:#}"))
        .clone()
}

fn upnp_finding(report: &serde_json::Value) -> serde_json::Value {
    finding_of(report, "probe.upnp.exposed")
}

#[test]
fn upnp_gateways_that_map_ports_for_anyone_and_that_refuse() {
    // A gateway that maps a port for whoever asks.
    let open = Lan::up("upnp-open");
    let (code, report) = open.probe();
    let f = upnp_finding(&report);
    assert_eq!(f["result"], "fail", "{f}");
    assert_eq!(code, Some(3));
    let m = f["message"].as_str().unwrap();
    assert!(
        m.contains("MiniUPnPd/")
            && m.contains("\"iotmark test gateway\"")
            && m.contains("WANIPConnection:2 accepted an AddPortMapping")
            && m.contains("the mapping was deleted again"),
        "{m}"
    );
    let upnp = &report["upnp"];
    assert!(upnp["answers"].as_array().unwrap().len() >= 5, "{upnp:#}");
    assert_eq!(upnp["mapping"]["outcome"], "accepted", "{upnp:#}");
    // Told not to, the probe asks for no mapping and says so.
    let (code, report) = open.probe_with(&["--no-upnp-mapping"]);
    let f = upnp_finding(&report);
    assert_eq!(f["result"], "info", "{f}");
    assert_eq!(code, Some(0));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("offers port mapping; not tried (--no-upnp-mapping)"),
        "{f}"
    );
    assert_eq!(
        report["upnp"]["mapping"]["outcome"], "not-tried",
        "{report:#}"
    );
    // Nothing was left open behind the probe: the gateway's firewall has no DNAT rule.
    let rules = Command::new("ip")
        .args([
            "netns", "exec", &open.0, "nft", "list", "table", "inet", "filter",
        ])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&rules.stdout).contains("dnat"),
        "{}",
        String::from_utf8_lossy(&rules.stdout)
    );
    drop(open);

    // Its twin answers discovery the same way but refuses every mapping.
    let refusing = Lan::up("upnp-refusing");
    let (code, report) = refusing.probe();
    let f = upnp_finding(&report);
    assert_eq!(f["result"], "info", "{f}");
    assert_eq!(code, Some(0));
    let m = f["message"].as_str().unwrap();
    assert!(
        m.contains("refused an unauthenticated AddPortMapping (606 Action not authorized)"),
        "{m}"
    );

    // And outside any gateway nothing answers.
    let quiet = iotmark()
        .args(["probe", "127.0.0.1", "--ports", "9", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&quiet.stdout).unwrap();
    let f = upnp_finding(&report);
    assert_eq!(f["result"], "pass", "{f}");
}

#[test]
fn mdns_services_a_device_advertises() {
    let camera = Lan::up("mdns");
    let (_, report) = camera.probe();
    let f = finding_of(&report, "probe.discovery.mdns");
    assert_eq!(f["result"], "info", "{f}");
    let m = f["message"].as_str().unwrap();
    assert!(
        m.contains("2 service type(s)")
            && m.contains(
                "\"Camera web interface\" (_http._tcp on port 80) saying model=SC200, fw=2.4.1"
            )
            && m.contains("(_ssh._tcp on port 22)"),
        "{m}"
    );
    let mdns = &report["mdns"];
    assert_eq!(mdns["host_names"][0], "camera-1234.local", "{mdns:#}");
    // Advertised, but not found open by this probe (only port 22 was asked for, and nothing
    // listens there).
    let unseen = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "probe.discovery.mdns")
        .filter_map(|f| f["message"].as_str())
        .find(|m| m.contains("did not find open"))
        .unwrap_or_else(|| panic!("{report:#}"));
    assert!(unseen.contains("22, 80"), "{unseen}");
    // Outside the namespace nothing answers on 127.0.0.1.
    let quiet = iotmark()
        .args(["probe", "127.0.0.1", "--ports", "9", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&quiet.stdout).unwrap();
    assert_eq!(
        finding_of(&report, "probe.discovery.mdns")["result"],
        "pass"
    );
}

#[test]
fn open_ports_are_judged_against_the_declared_services() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The camera declares one service, "RTSP over TLS", here on a port where a plain MQTT
    // broker answers; an SSH server listens on a port it does not declare; a third declared
    // port is closed.
    let (declared, undeclared, closed) = (free_port(), free_port(), free_port());
    let key = d.join("dropbear_ed25519_host_key");
    dropbear_key(&key);
    let _servers = [
        Daemon::start("mosquitto", &["-p", &declared.to_string()], declared),
        Daemon::start(
            "dropbear",
            &[
                "-F",
                "-E",
                "-s",
                "-p",
                &format!("127.0.0.1:{undeclared}"),
                "-r",
                key.to_str().unwrap(),
            ],
            undeclared,
        ),
    ];
    let example = common::repo().join("examples/acme-securecam/declaration.yaml");
    let text = std::fs::read_to_string(example).unwrap().replace(
        "      port: 322\n",
        &format!(
            "      port: {declared}\n      transport: tcp\n      exposure: lan\n      authentication: password\n      encryption: tls\n    - name: local API\n      component: camera\n      protocol: https\n      port: {closed}\n"
        ),
    );
    let declaration = d.join("declaration.yaml");
    std::fs::write(&declaration, text).unwrap();
    let out = iotmark()
        .args(["probe", "127.0.0.1", "--ports"])
        .arg(format!("{declared},{undeclared},{closed}"))
        .args(["--component", "camera", "--json", "--declaration"])
        .arg(&declaration)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let of = |check: &str, port: u16| -> Vec<serde_json::Value> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check"] == check && f["port"] == port)
            .cloned()
            .collect()
    };
    let f = &of("probe.ports.open", declared)[0];
    assert_eq!(f["result"], "pass", "{f}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("declared as \"local streaming (RTSP over TLS)\" (rtsps)"),
        "{f}"
    );
    let f = &of("probe.declared.encryption", declared)[0];
    assert_eq!(f["result"], "fail", "{f}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("answers in plain MQTT"),
        "{f}"
    );
    let f = &of("probe.ports.open", undeclared)[0];
    assert_eq!(f["result"], "fail", "{f}");
    assert!(
        f["message"].as_str().unwrap().contains("names no service"),
        "{f}"
    );
    let f = &of("probe.ports.open", closed)[0];
    assert_eq!(f["result"], "info", "{f}");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("\"local API\" (https)"),
        "{f}"
    );
    // A component the declaration does not have is refused with the ones it has.
    let refused = iotmark()
        .args([
            "probe",
            "127.0.0.1",
            "--ports",
            "9",
            "--component",
            "doorbell",
            "--declaration",
        ])
        .arg(&declaration)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("give --component one of: camera, app, cloud"),
        "{stderr}"
    );
}
