//! Configuration that opens the device: anonymous MQTT, UPnP without secure mode, the web
//! interface on plain HTTP, kernel debuggers on the command line.

use super::{Finding, Severity, fail, shell_words, text, uci};
use crate::tree::Tree;

pub(super) fn check(tree: &Tree, out: &mut Vec<Finding>) {
    mosquitto(tree, out);
    upnp(tree, out);
    uhttpd(tree, out);
    lighttpd(tree, out);
    kernel_debugger(tree, out);
}

/// mosquitto: `allow_anonymous true` is anonymous on every version. Without that line, a
/// broker with no `password_file` (nor plugin, PSK file or client certificates) is anonymous
/// by default on 1.x and closed by default on 2.x, so the version decides how sure we are.
fn mosquitto(tree: &Tree, out: &mut Vec<Finding>) {
    let mut listener: Option<(String, usize)> = None;
    let mut explicit = false;
    let mut authenticated = false;
    let mut any = false;
    for (path, data) in tree.files() {
        let p = path.to_string_lossy();
        if !(p.starts_with("etc/mosquitto/") && p.ends_with(".conf")) {
            continue;
        }
        let Some(t) = text(data) else { continue };
        any = true;
        for (i, line) in t.lines().enumerate() {
            let w = shell_words(line);
            match (w.first().copied(), w.get(1).copied()) {
                (Some("allow_anonymous"), Some("true")) => {
                    explicit = true;
                    out.push(fail(
                        "firmware.config.mqtt-anonymous",
                        Severity::High,
                        &p,
                        Some(i + 1),
                        "the MQTT broker accepts clients without authentication".to_owned(),
                    ));
                }
                (Some("allow_anonymous"), Some("false"))
                | (Some("password_file" | "psk_file" | "auth_plugin" | "plugin"), Some(_))
                | (Some("require_certificate"), Some("true")) => authenticated = true,
                (Some("listener" | "port"), _) if listener.is_none() => {
                    listener = Some((p.to_string(), i + 1));
                }
                _ => {}
            }
        }
    }
    if !any || explicit || authenticated {
        return;
    }
    let version = mosquitto_major(tree);
    let (file, line) = listener
        .map(|(f, l)| (f, Some(l)))
        .unwrap_or_else(|| ("etc/mosquitto/mosquitto.conf".to_owned(), None));
    match version {
        Some(1) => out.push(fail(
            "firmware.config.mqtt-anonymous",
            Severity::High,
            &file,
            line,
            "mosquitto 1.x with no password_file and no `allow_anonymous false` accepts anonymous clients (its default)".to_owned(),
        )),
        Some(_) => {}
        None => out.push(fail(
            "firmware.config.mqtt-anonymous",
            Severity::Low,
            &file,
            line,
            "the MQTT broker has no password_file and no `allow_anonymous false`: anonymous clients are accepted if it is mosquitto 1.x (2.x refuses them by default); the version could not be told".to_owned(),
        )),
    }
}

/// The major version of the installed mosquitto, from the opkg or dpkg database.
fn mosquitto_major(tree: &Tree) -> Option<u32> {
    for db in [
        "usr/lib/opkg/status",
        "var/lib/opkg/status",
        "var/lib/dpkg/status",
    ] {
        let Some(t) = tree.file(db).and_then(text) else {
            continue;
        };
        for para in t.split("\n\n") {
            let mut package = None;
            let mut version = None;
            for l in para.lines() {
                if let Some(v) = l.strip_prefix("Package: ") {
                    package = Some(v.trim());
                } else if let Some(v) = l.strip_prefix("Version: ") {
                    version = Some(v.trim());
                }
            }
            if package.is_some_and(|p| p == "mosquitto" || p.starts_with("mosquitto-"))
                && let Some(v) = version
            {
                let v = v.split_once(':').map_or(v, |(_, v)| v);
                return v.split('.').next()?.parse().ok();
            }
        }
    }
    None
}

/// miniupnpd without secure mode lets any LAN client map ports for any address. OpenWrt's
/// `enable_upnp '0'` turns the service off, so its secure_mode does not matter then.
fn upnp(tree: &Tree, out: &mut Vec<Finding>) {
    for (path, data) in tree.files() {
        let p = path.to_string_lossy();
        let upnp = p == "etc/miniupnpd.conf"
            || p.ends_with("miniupnpd/miniupnpd.conf")
            || p == "etc/config/upnpd";
        if !upnp {
            continue;
        }
        let Some(t) = text(data) else { continue };
        if p == "etc/config/upnpd" {
            let sections = uci(t);
            for s in &sections {
                let off = s.get("enable_upnp").is_some_and(|(v, _)| v == "0");
                if let Some((v, line)) = s.get("secure_mode")
                    && !off
                    && matches!(v, "0" | "no" | "off" | "false")
                {
                    out.push(insecure(&p, line));
                }
            }
            continue;
        }
        for (i, raw) in t.lines().enumerate() {
            let line: String = raw
                .split('#')
                .next()
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
                .collect();
            if line == "secure_mode=no" {
                out.push(insecure(&p, i + 1));
            }
        }
    }
}

fn insecure(p: &str, line: usize) -> Finding {
    fail(
        "firmware.config.upnp-insecure",
        Severity::Medium,
        p,
        Some(line),
        "UPnP runs without secure mode: any LAN client can map ports for any address".to_owned(),
    )
}

/// uhttpd (OpenWrt's web server for LuCI): an instance that listens on plain HTTP without
/// `option redirect_https '1'` serves the admin interface unencrypted.
fn uhttpd(tree: &Tree, out: &mut Vec<Finding>) {
    let p = "etc/config/uhttpd";
    let Some(t) = tree.file(p).and_then(text) else {
        return;
    };
    for s in uci(t) {
        if s.kind != "uhttpd" {
            continue;
        }
        let Some((_, listen, line, _)) = s
            .options
            .iter()
            .find(|(n, v, _, _)| n == "listen_http" && !v.is_empty())
        else {
            continue;
        };
        let redirect = s
            .get("redirect_https")
            .is_some_and(|(v, _)| matches!(v, "1" | "on" | "true" | "yes"));
        if redirect {
            continue;
        }
        let https = s.options.iter().any(|(n, _, _, _)| n == "listen_https");
        let also = if https {
            " (HTTPS is offered too, but HTTP is not redirected to it)"
        } else {
            " and offers no HTTPS"
        };
        out.push(fail(
            "firmware.config.http-admin",
            Severity::Medium,
            p,
            Some(*line),
            format!("the web interface (uhttpd) listens on plain HTTP {listen}{also}"),
        ));
    }
}

/// lighttpd with no `ssl.engine = "enable"` in any of its configuration files serves only
/// plain HTTP.
fn lighttpd(tree: &Tree, out: &mut Vec<Finding>) {
    let main = "etc/lighttpd/lighttpd.conf";
    let Some(t) = tree.file(main).and_then(text) else {
        return;
    };
    let tls = tree.files().any(|(path, data)| {
        path.starts_with("etc/lighttpd")
            && text(data).is_some_and(|t| {
                t.lines().any(|l| {
                    let l: String = l
                        .split('#')
                        .next()
                        .unwrap_or("")
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect();
                    l.starts_with("ssl.engine=\"enable\"")
                })
            })
    });
    if tls {
        return;
    }
    let port = t
        .lines()
        .position(|l| l.trim_start().starts_with("server.port"))
        .map(|i| i + 1);
    out.push(fail(
        "firmware.config.http-admin",
        Severity::Medium,
        main,
        port,
        "lighttpd serves plain HTTP only: no `ssl.engine = \"enable\"` in its configuration"
            .to_owned(),
    ));
}

/// A kernel command line that enables the kernel debugger over a serial line (`kgdboc=`,
/// `kgdbwait`) in the boot files the image ships.
fn kernel_debugger(tree: &Tree, out: &mut Vec<Finding>) {
    for (path, data) in tree.files() {
        let name = super::file_name(path);
        let boot_file = matches!(
            name,
            "cmdline.txt" | "uEnv.txt" | "extlinux.conf" | "grub.cfg" | "boot.cmd" | "cmdline"
        );
        if !boot_file {
            continue;
        }
        let Some(t) = text(data) else { continue };
        let p = path.to_string_lossy();
        for (i, line) in t.lines().enumerate() {
            if line.trim_start().starts_with('#') {
                continue;
            }
            if let Some(w) = line
                .split_whitespace()
                .find(|w| w.starts_with("kgdboc=") || *w == "kgdbwait" || w.starts_with("kgdbcon"))
            {
                out.push(fail(
                    "firmware.config.debug-interface",
                    Severity::High,
                    &p,
                    Some(i + 1),
                    format!("the kernel command line enables the kernel debugger (`{w}`)"),
                ));
                break;
            }
        }
    }
}
