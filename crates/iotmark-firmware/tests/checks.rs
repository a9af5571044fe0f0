//! Each check against a small filesystem with the weakness planted (found, with the right
//! check ID, file and line) and a clean twin (no failing finding of that ID). Inputs are made
//! by the real tools (openssl, ssh-keygen, dropbearkey, gcc, mksquashfs) and real Debian
//! binaries for armhf, mipsel and s390x; IoTGoat's published files are the ground truth.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use iotmark_firmware::analyze::{CHECK_IDS, Context, Finding, analyze_with};
use iotmark_firmware::tree::{Entry, Kind, Tree};
use iotmark_firmware::{Limits, scan};

/// A fixed "now" for checks that do not depend on certificates made during the test.
const NOW: i64 = 1_800_000_000; // 2027-01-15

fn ctx(now: i64) -> Context {
    Context {
        now,
        image_signed: None,
    }
}

#[derive(Default)]
struct T(Tree);

impl T {
    fn file(mut self, path: &str, data: impl AsRef<[u8]>) -> Self {
        let entry = Entry {
            kind: Kind::File(data.as_ref().to_vec()),
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        self.0.insert(Path::new(path), entry).unwrap();
        self
    }

    fn link(mut self, path: &str, target: &str) -> Self {
        let entry = Entry {
            kind: Kind::Symlink(PathBuf::from(target)),
            mode: 0o777,
            uid: 0,
            gid: 0,
        };
        self.0.insert(Path::new(path), entry).unwrap();
        self
    }

    fn run(&self) -> Vec<Finding> {
        analyze_with(&self.0, &ctx(NOW))
    }
}

/// `file:line` of the failing findings of one check.
fn fails(findings: &[Finding], check: &str) -> Vec<String> {
    let mut v: Vec<String> = findings
        .iter()
        .filter(|f| f.check == check && f.failed)
        .map(|f| format!("{}:{}", f.file, f.line.unwrap_or(0)))
        .collect();
    v.sort();
    v
}

fn message<'a>(findings: &'a [Finding], check: &str, file: &str) -> &'a str {
    findings
        .iter()
        .find(|f| f.check == check && f.file == file)
        .map(|f| f.message.as_str())
        .unwrap_or_else(|| panic!("no {check} finding for {file}: {findings:#?}"))
}

fn tool(cmd: &mut Command, package: &str) -> Vec<u8> {
    let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e} (install the Debian package {package})")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn sh(script: &str) -> Vec<u8> {
    tool(Command::new("sh").args(["-c", script]), "openssl")
}

fn openssl(args: &[&str]) -> Vec<u8> {
    tool(Command::new("openssl").args(args), "openssl")
}

// ---------------------------------------------------------------------------------------
// IoTGoat (OWASP, MIT): its published overlay files, through the real pipeline.

#[test]
fn iotgoat_ground_truth_through_squashfs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    let write = |rel: &str, data: &[u8]| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    // The iotgoatuser hash in IoTGoat's /etc/shadow is exactly what openssl makes from the
    // password in the public Mirai list.
    let hash = openssl(&["passwd", "-1", "-salt", "79bz0K8z", "7ujMko0vizxv"]);
    let hash = String::from_utf8(hash).unwrap().trim().to_owned();
    assert_eq!(hash, "$1$79bz0K8z$Ii6Q/if83F1QodGmkb4Ah.");
    write(
        "etc/shadow",
        format!(
            "root:$1$Jl7H1VOG$Wgw2F/C.nLNTC.4pwDa4H1:18145:0:99999:7:::\ndaemon:*:0:0:99999:7:::\n\
             ftp:*:0:0:99999:7:::\nnetwork:*:0:0:99999:7:::\nnobody:*:0:0:99999:7:::\n\
             dnsmasq:x:0:0:99999:7:::\ndnsmasq:x:0:0:99999:7:::\niotgoatuser:{hash}:18145:0:99999:7:::\n"
        )
        .as_bytes(),
    );
    write(
        "etc/rc.local",
        b"# Put your custom commands here that should be executed once\n\
          # the system init finished. By default this file does nothing.\n\n\
          /usr/bin/shellback &\n/usr/sbin/telnetd -p 65534 &\nexit 0\n",
    );
    write(
        "etc/config/upnpd",
        b"config upnpd config\n        option enabled          1\n        option enable_natpmp    1\n\
          \x20       option enable_upnp      1\n        option secure_mode      0\n\
          \x20       option log_output       0\n",
    );
    // IoTGoat's shellback is a bind shell; this one is built from a few lines of C, only
    // compiled, never run.
    let src = dir.path().join("shellback.c");
    std::fs::write(
        &src,
        "#include <netinet/in.h>\n#include <sys/socket.h>\n#include <unistd.h>\n\
         int main(void) { int s = socket(AF_INET, SOCK_STREAM, 0); struct sockaddr_in a = {0};\n\
         a.sin_family = AF_INET; a.sin_port = htons(5515); bind(s, (struct sockaddr *)&a, sizeof a);\n\
         listen(s, 1); int c = accept(s, 0, 0); dup2(c, 0); dup2(c, 1); dup2(c, 2);\n\
         execl(\"/bin/sh\", \"sh\", (char *)0); return 0; }\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    tool(
        Command::new("gcc")
            .arg("-o")
            .arg(root.join("usr/bin/shellback"))
            .arg(&src),
        "gcc",
    );
    let image = dir.path().join("iotgoat.sqfs");
    tool(
        Command::new("mksquashfs").arg(&root).arg(&image).args([
            "-comp",
            "xz",
            "-noappend",
            "-all-root",
            "-quiet",
            "-no-progress",
        ]),
        "squashfs-tools",
    );
    let report = scan(&std::fs::read(&image).unwrap(), &Limits::default());
    let findings: Vec<Finding> = report.findings.into_iter().map(|(_, f)| f).collect();
    assert_eq!(
        fails(&findings, "firmware.credentials.default-password"),
        ["etc/shadow:8"]
    );
    let m = message(
        &findings,
        "firmware.credentials.default-password",
        "etc/shadow",
    );
    assert!(
        m.contains("`iotgoatuser`") && m.contains("`7ujMko0vizxv`"),
        "{m}"
    );
    assert_eq!(
        fails(&findings, "firmware.credentials.weak-hash"),
        ["etc/shadow:1", "etc/shadow:8"]
    );
    assert_eq!(
        fails(&findings, "firmware.services.telnet"),
        ["etc/rc.local:5"]
    );
    assert_eq!(
        fails(&findings, "firmware.services.unneeded"),
        ["etc/rc.local:4"],
        "the bind shell started from rc.local"
    );
    assert!(message(&findings, "firmware.services.unneeded", "etc/rc.local").contains("shellback"));
    assert_eq!(
        fails(&findings, "firmware.config.upnp-insecure"),
        ["etc/config/upnpd:5"]
    );
}

// ---------------------------------------------------------------------------------------
// Credentials

#[test]
fn web_server_password_files() {
    let apr1 = String::from_utf8(openssl(&["passwd", "-apr1", "-salt", "s4ltS4lt", "admin"]))
        .unwrap()
        .trim()
        .to_owned();
    assert!(apr1.starts_with("$apr1$s4ltS4lt$"));
    let sha = String::from_utf8(sh(
        "printf %s support | openssl dgst -sha1 -binary | openssl base64",
    ))
    .unwrap()
    .trim()
    .to_owned();
    let digest =
        String::from_utf8(sh("printf %s 'admin:Private:admin' | openssl dgst -md5 -r")).unwrap();
    let digest = digest.split_whitespace().next().unwrap().to_owned();
    #[allow(deprecated)]
    let bcrypt = pwhash::bcrypt::hash_with(
        pwhash::bcrypt::BcryptSetup {
            cost: Some(5),
            ..Default::default()
        },
        "1234",
    )
    .unwrap();
    #[allow(deprecated)]
    let strong = pwhash::bcrypt::hash_with(
        pwhash::bcrypt::BcryptSetup {
            cost: Some(5),
            ..Default::default()
        },
        "k3Qv-9xT-unlisted",
    )
    .unwrap();
    let lighttpd = "server.port = 443\nauth.backend = \"htpasswd\"\n\
                    auth.backend.htpasswd.userfile = \"/etc/lighttpd/users\"\n\
                    auth.backend.htdigest.userfile = \"/etc/lighttpd/digest\"\n";
    let weak = T::default()
        .file("etc/lighttpd/lighttpd.conf", lighttpd)
        .file(
            "etc/lighttpd/users",
            format!("admin:{apr1}\nsupport:{{SHA}}{sha}\nuser:{bcrypt}\nguest:guest\n"),
        )
        .file("etc/lighttpd/digest", format!("admin:Private:{digest}\n"))
        .file(
            "etc/httpd.conf",
            "A:*\n/cgi-bin:admin:smcadmin\n/adm:root:$p$root\n",
        )
        .run();
    assert_eq!(
        fails(&weak, "firmware.credentials.weak-hash"),
        [
            "etc/lighttpd/digest:1",
            "etc/lighttpd/users:1",
            "etc/lighttpd/users:2"
        ]
    );
    assert_eq!(
        fails(&weak, "firmware.credentials.default-password"),
        [
            "etc/httpd.conf:2",
            "etc/lighttpd/digest:1",
            "etc/lighttpd/users:1",
            "etc/lighttpd/users:2",
            "etc/lighttpd/users:3",
            "etc/lighttpd/users:4"
        ]
    );
    assert_eq!(
        fails(&weak, "firmware.credentials.hardcoded"),
        ["etc/httpd.conf:2", "etc/lighttpd/users:4"]
    );
    assert!(
        message(
            &weak,
            "firmware.credentials.weak-hash",
            "etc/lighttpd/digest"
        )
        .contains("htdigest")
    );

    let clean = T::default()
        .file("etc/lighttpd/lighttpd.conf", lighttpd)
        .file("etc/lighttpd/users", format!("admin:{strong}\n"))
        .file("etc/httpd.conf", "A:*\n/adm:root:$p$root\n")
        .run();
    for check in [
        "firmware.credentials.weak-hash",
        "firmware.credentials.default-password",
        "firmware.credentials.hardcoded",
    ] {
        assert!(fails(&clean, check).is_empty(), "{check}: {clean:#?}");
    }
}

/// The `firmware_checks` fuzzer's shadow line: an MD5-crypt string with 250 NUL bytes in
/// its salt overflowed inside pwhash (a panic in a debug build, a wrong answer in release).
/// It is malformed, so it is never hashed; the well-formed line after it still is, and
/// its default password is found.
#[test]
fn shadow_line_with_nul_bytes_in_md5_crypt_salt_never_reaches_pwhash() {
    let hostile = format!(
        "root:$1$79b{}z0K8z$Ii6Q/if83F1QodGmkb4Ah.:18145:0:99999:7:::",
        "\0".repeat(250)
    );
    let admin = String::from_utf8(openssl(&["passwd", "-1", "-salt", "s4ltS4lt", "admin"]))
        .unwrap()
        .trim()
        .to_owned();
    let shadow = format!("{hostile}\nadmin:{admin}:18145:0:99999:7:::\n");
    let findings = T::default().file("etc/shadow", shadow).run();
    assert_eq!(
        fails(&findings, "firmware.credentials.default-password"),
        ["etc/shadow:2"]
    );
    assert_eq!(
        fails(&findings, "firmware.credentials.weak-hash"),
        ["etc/shadow:2"],
        "a malformed string is no evidence of a scheme"
    );
}

/// mosquitto's `$7$` (PBKDF2-SHA512) and `$6$` (one SHA-512) hashes, made by Python's
/// hashlib, an implementation independent of ours.
fn mosquitto_hash(kind: u8, password: &str) -> String {
    let code = match kind {
        7 => format!(
            "import base64,hashlib;s=b'0123456789ab';print('$7$101$'+base64.b64encode(s).decode()+'$'+base64.b64encode(hashlib.pbkdf2_hmac('sha512',b'{password}',s,101)).decode())"
        ),
        _ => format!(
            "import base64,hashlib;s=b'0123456789ab';print('$6$'+base64.b64encode(s).decode()+'$'+base64.b64encode(hashlib.sha512(b'{password}'+s).digest()).decode())"
        ),
    };
    let out = tool(Command::new("python3").args(["-c", &code]), "python3");
    String::from_utf8(out).unwrap().trim().to_owned()
}

#[test]
fn mosquitto_password_file() {
    let conf = "listener 1883\nallow_anonymous false\npassword_file /etc/mosquitto/pw\n";
    let weak = T::default()
        .file("etc/mosquitto/mosquitto.conf", conf)
        .file(
            "etc/mosquitto/pw",
            format!(
                "sensor:{}\ncam:{}\nplain:not-hashed-at-all\n",
                mosquitto_hash(7, "12345"),
                mosquitto_hash(6, "admin")
            ),
        )
        .run();
    assert_eq!(
        fails(&weak, "firmware.credentials.default-password"),
        ["etc/mosquitto/pw:1", "etc/mosquitto/pw:2"]
    );
    assert_eq!(
        fails(&weak, "firmware.credentials.weak-hash"),
        ["etc/mosquitto/pw:2"]
    );
    assert_eq!(
        fails(&weak, "firmware.credentials.hardcoded"),
        ["etc/mosquitto/pw:3"]
    );
    assert!(fails(&weak, "firmware.config.mqtt-anonymous").is_empty());

    let clean = T::default()
        .file("etc/mosquitto/mosquitto.conf", conf)
        .file(
            "etc/mosquitto/pw",
            format!("sensor:{}\n", mosquitto_hash(7, "Zq8-unlisted-pass")),
        )
        .run();
    assert!(clean.iter().all(|f| !f.failed), "{clean:#?}");
}

#[test]
fn uci_passwords_and_wifi_keys() {
    let weak = T::default()
        .file(
            "etc/config/rpcd",
            "config login\n\toption username 'admin'\n\toption password 'hunter2'\n",
        )
        .file(
            "etc/config/wireless",
            "config wifi-iface 'default_radio0'\n\toption ssid 'Device'\n\toption encryption 'psk2'\n\toption key 'SharedWifiKey1'\n",
        )
        .run();
    assert_eq!(
        fails(&weak, "firmware.credentials.hardcoded"),
        ["etc/config/rpcd:3", "etc/config/wireless:4"]
    );
    let m = message(
        &weak,
        "firmware.credentials.hardcoded",
        "etc/config/wireless",
    );
    assert!(
        m.contains("`Sh…` (14 characters)") && !m.contains("SharedWifiKey1"),
        "{m}"
    );

    // IoTGoat's own wireless file: an open network has no key to leak.
    let clean = T::default()
        .file(
            "etc/config/rpcd",
            "config login\n\toption username 'root'\n\toption password '$p$root'\n",
        )
        .file(
            "etc/config/wireless",
            "config wifi-iface\n\toption device 'wl0'\n\toption mode 'ap'\n\toption encryption 'none'\n\toption network 'lan'\n\toption ssid 'OWASP IoTGoat'\n",
        )
        .file("etc/config/uhttpd", "config cert 'defaults'\n\toption key '/etc/uhttpd.key'\n")
        .run();
    assert!(
        fails(&clean, "firmware.credentials.hardcoded").is_empty(),
        "{clean:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// Keys and certificates

/// Real Debian packages for the architectures firmware uses, fetched once by
/// `scripts/fetch-debian-packages.sh` (which the test command runs) into
/// `target/debian-packages/<arch>/`, and unpacked here into the test's scratch directory.
fn debian() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        const PACKAGES: &[(&str, &str)] = &[
            ("busybox", "mipsel"),
            ("busybox", "s390x"),
            ("busybox-static", "armhf"),
            ("dropbear-bin", "armhf"),
            ("dropbear-bin", "amd64"),
            ("libtomcrypt1", "amd64"),
            ("libtommath1", "amd64"),
        ];
        let fetched = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debian-packages");
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("debian-bookworm");
        let root = base.join("root-v2");
        if root.exists() {
            return root;
        }
        // nextest runs each test in its own process: each unpacks into its own directory
        // and renames it into place, and the first rename wins.
        let staging = base.join(format!("staging-{}", std::process::id()));
        std::fs::create_dir_all(&staging).unwrap();
        for (pkg, arch) in PACKAGES {
            let deb = std::fs::read_dir(fetched.join(arch))
                .into_iter()
                .flatten()
                .map(|e| e.unwrap().path())
                .find(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&format!("{pkg}_")))
                })
                .unwrap_or_else(|| {
                    panic!(
                        "{pkg}:{arch} not in {}; run scripts/fetch-debian-packages.sh",
                        fetched.display()
                    )
                });
            tool(
                Command::new("dpkg-deb")
                    .arg("-x")
                    .arg(&deb)
                    .arg(staging.join(format!("{pkg}-{arch}"))),
                "dpkg",
            );
        }
        if std::fs::rename(&staging, &root).is_err() {
            assert!(
                root.exists(),
                "cannot move {} into place",
                staging.display()
            );
            std::fs::remove_dir_all(&staging).unwrap();
        }
        root
    })
}

fn dropbearkey(kind: &str, bits: &str, out: &Path) {
    let root = debian();
    tool(
        Command::new(root.join("dropbear-bin-amd64/usr/bin/dropbearkey"))
            .env(
                "LD_LIBRARY_PATH",
                format!(
                    "{}:{}",
                    root.join("libtomcrypt1-amd64/usr/lib/x86_64-linux-gnu")
                        .display(),
                    root.join("libtommath1-amd64/usr/lib/x86_64-linux-gnu")
                        .display()
                ),
            )
            .args(["-t", kind, "-s", bits, "-f"])
            .arg(out),
        "dropbear-bin",
    );
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn keys_and_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let rsa1024 = openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:1024",
    ]);
    std::fs::write(d("rsa1024.pem"), &rsa1024).unwrap();
    let rsa2048 = openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
    ]);
    std::fs::write(d("rsa2048.pem"), &rsa2048).unwrap();
    let pkcs1 = openssl(&["rsa", "-in", &d("rsa2048.pem"), "-traditional"]);
    let sec1 = openssl(&["ecparam", "-name", "prime256v1", "-genkey", "-noout"]);
    let der_pkcs8 = openssl(&[
        "pkcs8",
        "-topk8",
        "-nocrypt",
        "-in",
        &d("rsa1024.pem"),
        "-outform",
        "DER",
    ]);
    let der_pkcs1 = openssl(&[
        "rsa",
        "-in",
        &d("rsa2048.pem"),
        "-traditional",
        "-outform",
        "DER",
    ]);
    let public = openssl(&["pkey", "-in", &d("rsa2048.pem"), "-pubout"]);
    tool(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "", "-f"])
            .arg(d("id_ed25519")),
        "openssh-client",
    );
    let openssh = std::fs::read(d("id_ed25519")).unwrap();
    dropbearkey("rsa", "1024", Path::new(&d("db_rsa")));
    dropbearkey("ecdsa", "384", Path::new(&d("db_ecdsa")));
    let cert = |key: &str, md: &str, cn: &str, days: &str| {
        openssl(&[
            "req", "-x509", "-new", "-key", key, md, "-days", days, "-subj", cn,
        ])
    };
    let device = cert(
        &d("rsa2048.pem"),
        "-sha256",
        "/CN=device.example/O=Maker",
        "10",
    );
    std::fs::write(d("device.pem"), &device).unwrap();
    let device_der = openssl(&["x509", "-in", &d("device.pem"), "-outform", "DER"]);
    let weak_cert = cert(&d("rsa1024.pem"), "-sha1", "/CN=old.example", "3650");

    let weak_tree = T::default()
        .file("etc/ssl/private/rsa1024.key", &rsa1024)
        .file("etc/ssl/private/legacy.key", &pkcs1)
        .file("etc/ssl/private/ec.key", &sec1)
        .file("usr/share/app/key.der", &der_pkcs8)
        .file("usr/share/app/key1.der", &der_pkcs1)
        .file("root/.ssh/id_ed25519", &openssh)
        .file(
            "etc/dropbear/dropbear_rsa_host_key",
            std::fs::read(d("db_rsa")).unwrap(),
        )
        .file(
            "opt/vendor/client.key",
            std::fs::read(d("db_ecdsa")).unwrap(),
        )
        .file("etc/ssl/device.crt", &device)
        .file("etc/ssl/device.der", &device_der)
        .file("etc/ssl/old.crt", &weak_cert)
        .file("etc/ssl/certs/ca.pem", &weak_cert);
    let findings = analyze_with(&weak_tree.0, &ctx(now()));
    assert_eq!(
        fails(&findings, "firmware.keys.private-key"),
        [
            "etc/ssl/private/ec.key:1",
            "etc/ssl/private/legacy.key:1",
            "etc/ssl/private/rsa1024.key:1",
            "opt/vendor/client.key:0",
            "root/.ssh/id_ed25519:1",
            "usr/share/app/key.der:0",
            "usr/share/app/key1.der:0",
        ]
    );
    for (file, what) in [
        (
            "etc/ssl/private/ec.key",
            "EC PRIVATE KEY (EC P-256 256-bit)",
        ),
        (
            "etc/ssl/private/legacy.key",
            "RSA PRIVATE KEY (RSA 2048-bit)",
        ),
        ("etc/ssl/private/rsa1024.key", "PRIVATE KEY (RSA 1024-bit)"),
        (
            "opt/vendor/client.key",
            "dropbear private key (EC P-384 384-bit)",
        ),
        (
            "root/.ssh/id_ed25519",
            "OPENSSH PRIVATE KEY (Ed25519 256-bit)",
        ),
        ("usr/share/app/key.der", "DER private key (RSA 1024-bit)"),
        ("usr/share/app/key1.der", "DER private key (RSA 2048-bit)"),
    ] {
        let m = message(&findings, "firmware.keys.private-key", file);
        assert!(m.starts_with(what), "{file}: {m}");
    }
    assert_eq!(
        fails(&findings, "firmware.keys.shared-host-key"),
        ["etc/dropbear/dropbear_rsa_host_key:0"]
    );
    assert!(
        message(
            &findings,
            "firmware.keys.shared-host-key",
            "etc/dropbear/dropbear_rsa_host_key"
        )
        .contains("(RSA 1024-bit)")
    );
    assert_eq!(
        fails(&findings, "firmware.keys.weak"),
        [
            "etc/dropbear/dropbear_rsa_host_key:0",
            "etc/ssl/old.crt:1",
            "etc/ssl/old.crt:1",
            "etc/ssl/private/rsa1024.key:1",
            "usr/share/app/key.der:0",
        ],
        "1024-bit RSA keys and the SHA-1 signed certificate; the CA bundle is not judged"
    );
    // Valid now: passing observations with what the certificate is.
    assert!(fails(&findings, "firmware.certs.expired").is_empty());
    let valid: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.check == "firmware.certs.expired")
        .collect();
    assert_eq!(valid.len(), 3, "{valid:#?}");
    let m = message(&findings, "firmware.certs.expired", "etc/ssl/device.der");
    assert!(
        m.contains("`CN=device.example, O=Maker` issued by `CN=device.example, O=Maker`")
            && m.contains("RSA 2048-bit")
            && m.contains("sha256WithRSAEncryption")
            && m.contains("valid until"),
        "{m}"
    );
    // Twenty days on, the ten-day certificate has expired.
    let later = analyze_with(&weak_tree.0, &ctx(now() + 20 * 86_400));
    assert_eq!(
        fails(&later, "firmware.certs.expired"),
        ["etc/ssl/device.crt:1", "etc/ssl/device.der:0"]
    );

    let clean = T::default()
        .file("etc/ssl/device.pub", &public)
        .file("etc/ssl/device.crt", &device)
        .file("etc/ssl/certs/ca.pem", &weak_cert)
        .file(
            "etc/dropbear/authorized_keys",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA user\n",
        );
    let clean = analyze_with(&clean.0, &ctx(now()));
    assert!(clean.iter().all(|f| !f.failed), "{clean:#?}");
}

// ---------------------------------------------------------------------------------------
// Services at boot

const TELNET_PROCD: &str = "#!/bin/sh /etc/rc.common\nSTART=50\nUSE_PROCD=1\n\nstart_service() {\n\tprocd_open_instance\n\tprocd_set_param command /usr/sbin/telnetd -F -l /bin/login.sh\n\tprocd_close_instance\n}\n";
const FTPD: &str = "#!/bin/sh /etc/rc.common\nSTART=60\nstart() {\n\tservice_start /usr/sbin/vsftpd\n}\nstop() {\n\tkillall vsftpd\n}\n";

#[test]
fn services_started_at_boot() {
    let base = || {
        T::default()
            .file("bin/busybox", b"\x7fELF not really")
            .link("usr/sbin/telnetd", "../../bin/busybox")
            .file("etc/init.d/telnet", TELNET_PROCD)
            .file("etc/init.d/ftpd", FTPD)
            .file(
                "lib/systemd/system/telnet.socket",
                "[Socket]\nListenStream=23\nAccept=yes\n",
            )
            .file(
                "lib/systemd/system/telnet@.service",
                "[Unit]\nDescription=Telnet\n[Service]\nExecStart=-/usr/sbin/in.telnetd\nStandardInput=socket\n",
            )
    };
    let weak = base()
        .link("etc/rc.d/S50telnet", "../init.d/telnet")
        .link("etc/rc.d/S60ftpd", "../init.d/ftpd")
        .file("etc/config/ftpd", "config ftpd\n\toption enabled '1'\n")
        .link(
            "etc/systemd/system/sockets.target.wants/telnet.socket",
            "/lib/systemd/system/telnet.socket",
        )
        .file(
            "etc/inetd.conf",
            "# services\ntftp dgram udp wait root /usr/sbin/tcpd /usr/sbin/in.tftpd -s /srv\n",
        )
        .file(
            "etc/rc.local",
            "#!/bin/sh\ngdbserver :2345 /usr/bin/app &\nexit 0\n",
        )
        .run();
    assert_eq!(
        fails(&weak, "firmware.services.telnet"),
        [
            "etc/init.d/telnet:7",
            "lib/systemd/system/telnet@.service:4"
        ]
    );
    assert!(
        message(&weak, "firmware.services.telnet", "etc/init.d/telnet")
            .contains("(a busybox applet)")
    );
    assert_eq!(
        fails(&weak, "firmware.services.unneeded"),
        ["etc/inetd.conf:2", "etc/init.d/ftpd:4"]
    );
    assert_eq!(
        fails(&weak, "firmware.config.debug-interface"),
        ["etc/rc.local:2"]
    );

    // The same scripts and units, none of them enabled; ftpd linked but off in UCI.
    let clean = base()
        .link("etc/rc.d/S60ftpd", "../init.d/ftpd")
        .file("etc/config/ftpd", "config ftpd\n\toption enabled '0'\n")
        .file(
            "etc/inetd.conf",
            "#tftp dgram udp wait root /usr/sbin/tcpd in.tftpd\n",
        )
        .file("etc/rc.local", "#!/bin/sh\nkillall telnetd\nexit 0\n")
        .run();
    for check in [
        "firmware.services.telnet",
        "firmware.services.unneeded",
        "firmware.config.debug-interface",
    ] {
        assert!(fails(&clean, check).is_empty(), "{check}: {clean:#?}");
    }
}

// ---------------------------------------------------------------------------------------
// Configuration

#[test]
fn insecure_configuration() {
    let weak = T::default()
        .file(
            "etc/config/uhttpd",
            "config uhttpd 'main'\n\tlist listen_http '0.0.0.0:80'\n\tlist listen_https '0.0.0.0:443'\n\toption redirect_https '0'\n",
        )
        .file(
            "etc/lighttpd/lighttpd.conf",
            "server.document-root = \"/www\"\nserver.port = 80\n",
        )
        .file(
            "boot/cmdline.txt",
            "console=ttyS0,115200 kgdboc=ttyS0,115200 root=/dev/mmcblk0p2\n",
        )
        .run();
    assert_eq!(
        fails(&weak, "firmware.config.http-admin"),
        ["etc/config/uhttpd:2", "etc/lighttpd/lighttpd.conf:2"]
    );
    assert_eq!(
        fails(&weak, "firmware.config.debug-interface"),
        ["boot/cmdline.txt:1"]
    );
    let clean = T::default()
        .file(
            "etc/config/uhttpd",
            "config uhttpd 'main'\n\tlist listen_http '0.0.0.0:80'\n\tlist listen_https '0.0.0.0:443'\n\toption redirect_https '1'\n",
        )
        .file(
            "etc/lighttpd/lighttpd.conf",
            "server.port = 80\ninclude \"conf.d/ssl.conf\"\n",
        )
        .file(
            "etc/lighttpd/conf.d/ssl.conf",
            "$SERVER[\"socket\"] == \":443\" {\n  ssl.engine = \"enable\"\n}\n",
        )
        .file("boot/cmdline.txt", "console=ttyS0,115200 root=/dev/mmcblk0p2\n")
        // secure_mode is off but UPnP itself is disabled.
        .file(
            "etc/config/upnpd",
            "config upnpd config\n\toption enable_upnp 0\n\toption secure_mode 0\n",
        )
        .run();
    for check in [
        "firmware.config.http-admin",
        "firmware.config.debug-interface",
        "firmware.config.upnp-insecure",
    ] {
        assert!(fails(&clean, check).is_empty(), "{check}: {clean:#?}");
    }
}

#[test]
fn mosquitto_anonymous_by_version() {
    let conf = "listener 1883 0.0.0.0\n";
    let status =
        |v: &str| format!("Package: mosquitto-ssl\nVersion: {v}\nStatus: install ok installed\n\n");
    let v1 = T::default()
        .file("etc/mosquitto/mosquitto.conf", conf)
        .file("usr/lib/opkg/status", status("1.6.15-1"))
        .run();
    assert_eq!(
        fails(&v1, "firmware.config.mqtt-anonymous"),
        ["etc/mosquitto/mosquitto.conf:1"]
    );
    assert_eq!(
        v1.iter()
            .find(|f| f.check == "firmware.config.mqtt-anonymous")
            .unwrap()
            .severity,
        iotmark_firmware::analyze::Severity::High
    );
    let unknown = T::default()
        .file("etc/mosquitto/mosquitto.conf", conf)
        .run();
    let f = unknown
        .iter()
        .find(|f| f.check == "firmware.config.mqtt-anonymous")
        .unwrap();
    assert_eq!(
        (f.severity, f.line),
        (iotmark_firmware::analyze::Severity::Low, Some(1)),
        "{f:?}"
    );
    let v2 = T::default()
        .file("etc/mosquitto/mosquitto.conf", conf)
        .file("usr/lib/opkg/status", status("2.0.11-1"))
        .run();
    assert!(fails(&v2, "firmware.config.mqtt-anonymous").is_empty());
}

// ---------------------------------------------------------------------------------------
// Updates

#[test]
fn update_verification() {
    let weak = T::default()
        .file("sbin/sysupgrade", "#!/bin/sh\n")
        .file("etc/opkg.conf", "dest root /\noption check_signature 0\n")
        .run();
    assert_eq!(
        fails(&weak, "firmware.update.unsigned"),
        ["etc/opkg.conf:2", "sbin/sysupgrade:0"]
    );
    assert!(
        weak.iter()
            .all(|f| f.check != "firmware.update.verification-key")
    );

    let clean = T::default()
        .file("sbin/sysupgrade", "#!/bin/sh\n")
        .file("etc/opkg.conf", "dest root /\noption check_signature\n")
        .file(
            "etc/opkg/keys/4d017e6f1ed5d616",
            "untrusted comment: public key 4d017e6f1ed5d616\nRWRNAX5vHtXWFmt+n5di7XX8rTu0w+c8X7Ihv4oCyD6tzsUwmH0A6kO0\n",
        )
        .file("usr/bin/rauc", "")
        .file(
            "etc/rauc/system.conf",
            "[system]\ncompatible=device\n\n[keyring]\npath=/etc/rauc/ca.cert.pem\n",
        )
        .run();
    assert!(
        fails(&clean, "firmware.update.unsigned").is_empty(),
        "{clean:#?}"
    );
    let keys: Vec<String> = clean
        .iter()
        .filter(|f| f.check == "firmware.update.verification-key")
        .map(|f| {
            assert!(!f.failed);
            format!("{}:{}", f.file, f.line.unwrap_or(0))
        })
        .collect();
    assert_eq!(
        keys,
        ["etc/opkg/keys/4d017e6f1ed5d616:0", "etc/rauc/system.conf:5"]
    );

    // The hook for the image's own signature (a FIT signature node found by the unpacker).
    let bare = T::default().file("sbin/sysupgrade", "#!/bin/sh\n");
    let signed = analyze_with(
        &bare.0,
        &Context {
            now: NOW,
            image_signed: Some(true),
        },
    );
    assert!(fails(&signed, "firmware.update.unsigned").is_empty());
    let unsigned = analyze_with(
        &bare.0,
        &Context {
            now: NOW,
            image_signed: Some(false),
        },
    );
    assert!(
        message(&unsigned, "firmware.update.unsigned", "sbin/sysupgrade").contains("image itself")
    );
}

// ---------------------------------------------------------------------------------------
// Binary hardening

/// What readelf (binutils, which reads every architecture) says about one binary, in the
/// terms of our checks: `None` where a property does not apply or cannot be told.
fn readelf_oracle(path: &Path) -> [Option<bool>; 5] {
    let run = |args: &[&str]| {
        String::from_utf8(tool(
            Command::new("readelf").args(args).arg(path),
            "binutils",
        ))
        .unwrap()
    };
    let header = run(&["-hW"]);
    let segments = run(&["-lW"]);
    let dynamic = run(&["-dW"]);
    let symbols = run(&["--dyn-syms", "-sW"]);
    let names: Vec<&str> = symbols
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|t| t.trim_end_matches(':').parse::<u32>().is_ok())
        })
        .filter_map(|l| l.split_whitespace().nth(7))
        .map(|n| n.split('@').next().unwrap())
        .collect();
    let stack = segments
        .lines()
        .find(|l| l.trim_start().starts_with("GNU_STACK"));
    let nx = Some(stack.is_some_and(|l| !l.contains("RWE")));
    let dyn_type = header.contains("DYN (");
    let interp = segments.contains("INTERP");
    let pie_flag = dynamic
        .lines()
        .any(|l| l.contains("FLAGS_1") && l.contains("PIE"));
    let executable = !dyn_type || interp || pie_flag;
    let pie = executable.then_some(dyn_type);
    let now = dynamic.contains("BIND_NOW")
        || dynamic
            .lines()
            .any(|l| l.contains("FLAGS_1") && l.contains(" NOW"));
    let relro = segments
        .contains("DYNAMIC")
        .then_some(segments.contains("GNU_RELRO") && now);
    let known = !names.is_empty();
    let canary = known.then(|| {
        names
            .iter()
            .any(|n| *n == "__stack_chk_fail" || *n == "__stack_chk_guard")
    });
    let fortify = known.then(|| {
        names
            .iter()
            .any(|n| n.starts_with("__") && n.ends_with("_chk") && *n != "__stack_chk_fail")
    });
    [nx, pie, relro, canary, fortify]
}

const HARDENING: [&str; 5] = [
    "firmware.hardening.nx",
    "firmware.hardening.pie",
    "firmware.hardening.relro",
    "firmware.hardening.canary",
    "firmware.hardening.fortify",
];

#[test]
fn hardening_matches_readelf_on_real_binaries() {
    let root = debian();
    let mut binaries: Vec<PathBuf> = [
        "busybox-mipsel/bin/busybox",
        "busybox-s390x/bin/busybox",
        "busybox-static-armhf/bin/busybox",
        "dropbear-bin-armhf/usr/sbin/dropbear",
        "dropbear-bin-armhf/usr/bin/dbclient",
    ]
    .iter()
    .map(|p| root.join(p))
    .collect();
    // The host's own amd64 programs and a shared library.
    for p in [
        "/usr/bin/ls",
        "/usr/bin/ssh",
        "/usr/bin/openssl",
        "/usr/bin/readelf",
    ] {
        if Path::new(p).exists() {
            binaries.push(PathBuf::from(p));
        }
    }
    if let Some(libc) = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
    ]
    .iter()
    .find(|p| Path::new(p).exists())
    {
        binaries.push(PathBuf::from(libc));
    }
    let mut seen_nx_fail = false;
    for bin in &binaries {
        let data = std::fs::read(bin).unwrap();
        let findings = T::default().file("bin/x", &data).run();
        let expected = readelf_oracle(bin);
        for (check, want) in HARDENING.iter().zip(expected) {
            let got = findings
                .iter()
                .find(|f| f.check == *check)
                .map(|f| !f.failed);
            assert_eq!(got, want, "{check} for {}: {findings:#?}", bin.display());
        }
        seen_nx_fail |= expected[0] == Some(false);
    }
    // Ground truth from the oracle, stated plainly: Debian's mipsel busybox asks for an
    // executable stack, and the static armhf busybox is not PIE and has no symbols.
    let mipsel = T::default()
        .file(
            "bin/busybox",
            std::fs::read(root.join("busybox-mipsel/bin/busybox")).unwrap(),
        )
        .run();
    assert_eq!(fails(&mipsel, "firmware.hardening.nx"), ["bin/busybox:0"]);
    assert!(seen_nx_fail);
    let armhf = T::default()
        .file(
            "bin/busybox",
            std::fs::read(root.join("busybox-static-armhf/bin/busybox")).unwrap(),
        )
        .run();
    assert_eq!(fails(&armhf, "firmware.hardening.pie"), ["bin/busybox:0"]);
    assert!(armhf.iter().all(|f| f.check != "firmware.hardening.canary"));
}

#[test]
fn hardening_is_one_finding_per_property() {
    let root = debian();
    let static_bb = std::fs::read(root.join("busybox-static-armhf/bin/busybox")).unwrap();
    let dropbear = std::fs::read(root.join("dropbear-bin-armhf/usr/sbin/dropbear")).unwrap();
    let mut t = T::default().file("usr/sbin/dropbear", &dropbear);
    for i in 0..13 {
        t = t.file(&format!("opt/tools/t{i:02}"), &static_bb);
    }
    // A kernel module and other processors' firmware are not judged.
    t = t.file("lib/firmware/wifi.elf", &static_bb);
    let findings = t.run();
    let pie: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.check == "firmware.hardening.pie")
        .collect();
    assert_eq!(pie.len(), 1, "{pie:#?}");
    assert!(pie[0].failed);
    assert_eq!(pie[0].file, "opt/tools/t00");
    assert!(
        pie[0].message.starts_with("13 of 14 executables lack")
            && pie[0].message.contains("opt/tools/t09")
            && !pie[0].message.contains("opt/tools/t10")
            && pie[0].message.ends_with("and 3 more"),
        "{}",
        pie[0].message
    );
    // dropbear alone has symbols: canary is judged on it only, and it passes.
    let canary: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.check == "firmware.hardening.canary")
        .collect();
    assert_eq!(canary.len(), 1);
    assert!(!canary[0].failed, "{canary:#?}");
    assert_eq!(
        canary[0].message,
        "all 1 binaries with symbols have stack canaries"
    );

    // A clean twin: only hardened binaries, so every property passes.
    let clean = T::default().file("usr/sbin/dropbear", &dropbear).run();
    for check in HARDENING {
        let f = clean.iter().find(|f| f.check == check).unwrap();
        assert!(!f.failed, "{f:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Vocabulary

/// Every check ID the analyser can emit is listed in [`CHECK_IDS`] and appears in at least
/// one rule's `checks:` list, so no finding is without a requirement.
#[test]
fn every_check_id_is_used_by_a_rule() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules_dir = manifest.join("../../catalogs/rules");
    let mut rules = String::new();
    for f in std::fs::read_dir(&rules_dir).unwrap() {
        let f = f.unwrap().path();
        if f.extension().is_some_and(|e| e == "yaml") {
            rules.push_str(&std::fs::read_to_string(f).unwrap());
        }
    }
    let in_rules: std::collections::BTreeSet<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("checks:"))
        .flat_map(|l| l.trim().trim_matches(['[', ']']).split(','))
        .map(str::trim)
        .collect();
    for id in CHECK_IDS {
        assert!(in_rules.contains(id), "{id} is in no rule's checks: list");
    }
    // And the source emits nothing outside CHECK_IDS.
    let mut sources = vec![manifest.join("src/analyze.rs")];
    for f in std::fs::read_dir(manifest.join("src/analyze")).unwrap() {
        sources.push(f.unwrap().path());
    }
    for src in sources {
        let text = std::fs::read_to_string(&src).unwrap();
        for piece in text.split('"').skip(1).step_by(2) {
            if piece.starts_with("firmware.") && !piece.ends_with('.') {
                assert!(
                    CHECK_IDS.contains(&piece),
                    "{} emits {piece}, missing from CHECK_IDS",
                    src.display()
                );
            }
        }
    }
    // Rules mention no firmware check the analyser lacks, except the SBOM (built elsewhere).
    for id in in_rules.iter().filter(|i| i.starts_with("firmware.")) {
        assert!(
            CHECK_IDS.contains(id) || *id == "firmware.sbom.components",
            "rules use {id}, which nothing emits"
        );
    }
}

#[test]
fn fuzz_checks_corpus_runs_without_panicking() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/firmware_checks");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        iotmark_firmware::fuzz_checks(&std::fs::read(entry.unwrap().path()).unwrap());
        count += 1;
    }
    assert!(count >= 5, "expected the seed corpus in {}", dir.display());
}
