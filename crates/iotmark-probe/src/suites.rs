//! TLS cipher suites by their IANA code points (the "TLS Cipher Suites" registry), with what
//! makes one unfit: the probe offers them and names what a server accepts. The table holds
//! every suite Debian's OpenSSL 3 negotiates with an RSA or ECDSA certificate or none (as
//! sslyze finds them), and the broken ones older stacks still offer; PSK, SRP, DSS and static
//! DH suites are left out (a probe has no pre-shared key, password or DH certificate).

/// One cipher suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suite {
    pub id: u16,
    /// The IANA name.
    pub name: &'static str,
}

impl Suite {
    /// Only TLS 1.3 negotiates it.
    pub fn tls13(self) -> bool {
        (0x1301..=0x1305).contains(&self.id)
    }

    /// Needs TLS 1.2 (AEAD, or a SHA-256/384 MAC).
    pub fn tls12_only(self) -> bool {
        !self.tls13()
            && ["GCM", "CHACHA20", "CCM", "SHA256", "SHA384"]
                .iter()
                .any(|w| self.name.contains(w))
    }

    /// Why the suite gives no real protection, if it does not: no encryption, export
    /// strength, no authentication, or a broken cipher or MAC.
    pub fn weakness(self) -> Option<&'static str> {
        let n = self.name;
        if n.contains("_NULL_") || n.ends_with("_NULL_SHA") {
            Some("no encryption")
        } else if n.contains("EXPORT") {
            Some("export-grade keys")
        } else if n.contains("_anon_") {
            Some("no server authentication")
        } else if n.contains("RC4") {
            Some("RC4 (RFC 7465 prohibits it)")
        } else if n.contains("3DES") {
            Some("3DES (64-bit blocks, Sweet32)")
        } else if n.contains("_DES_") || n.contains("DES40") {
            Some("single DES")
        } else if n.contains("RC2") || n.contains("IDEA") {
            Some("an obsolete cipher")
        } else if n.ends_with("MD5") {
            Some("an MD5 MAC")
        } else {
            None
        }
    }
}

macro_rules! suites {
    ($($id:literal $name:ident),* $(,)?) => {
        /// Every suite the probe knows, strongest kinds first.
        pub const ALL: &[Suite] = &[$(Suite { id: $id, name: stringify!($name) }),*];
    };
}

suites! {
    0x1301 TLS_AES_128_GCM_SHA256,
    0x1302 TLS_AES_256_GCM_SHA384,
    0x1303 TLS_CHACHA20_POLY1305_SHA256,
    0x1304 TLS_AES_128_CCM_SHA256,
    0x1305 TLS_AES_128_CCM_8_SHA256,
    0xC02B TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    0xC02C TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    0xCCA9 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    0xC0AC TLS_ECDHE_ECDSA_WITH_AES_128_CCM,
    0xC0AD TLS_ECDHE_ECDSA_WITH_AES_256_CCM,
    0xC0AE TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
    0xC0AF TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8,
    0xC05C TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256,
    0xC05D TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384,
    0xC072 TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256,
    0xC073 TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384,
    0xC023 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
    0xC024 TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
    0xC009 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
    0xC00A TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
    0xC008 TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA,
    0xC007 TLS_ECDHE_ECDSA_WITH_RC4_128_SHA,
    0xC006 TLS_ECDHE_ECDSA_WITH_NULL_SHA,
    0xC02F TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    0xC030 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    0xCCA8 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0xC027 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
    0xC028 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
    0xC060 TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256,
    0xC061 TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384,
    0xC076 TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256,
    0xC077 TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384,
    0xC013 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    0xC014 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
    0xC012 TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
    0xC011 TLS_ECDHE_RSA_WITH_RC4_128_SHA,
    0xC010 TLS_ECDHE_RSA_WITH_NULL_SHA,
    0x009E TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
    0x009F TLS_DHE_RSA_WITH_AES_256_GCM_SHA384,
    0xCCAA TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0xC09E TLS_DHE_RSA_WITH_AES_128_CCM,
    0xC09F TLS_DHE_RSA_WITH_AES_256_CCM,
    0xC0A2 TLS_DHE_RSA_WITH_AES_128_CCM_8,
    0xC0A3 TLS_DHE_RSA_WITH_AES_256_CCM_8,
    0xC052 TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256,
    0xC053 TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384,
    0x00BE TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256,
    0x00C4 TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256,
    0x0067 TLS_DHE_RSA_WITH_AES_128_CBC_SHA256,
    0x006B TLS_DHE_RSA_WITH_AES_256_CBC_SHA256,
    0x0033 TLS_DHE_RSA_WITH_AES_128_CBC_SHA,
    0x0039 TLS_DHE_RSA_WITH_AES_256_CBC_SHA,
    0x0045 TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA,
    0x0088 TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA,
    0x009A TLS_DHE_RSA_WITH_SEED_CBC_SHA,
    0x0016 TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA,
    0x0015 TLS_DHE_RSA_WITH_DES_CBC_SHA,
    0x0014 TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA,
    0x009C TLS_RSA_WITH_AES_128_GCM_SHA256,
    0x009D TLS_RSA_WITH_AES_256_GCM_SHA384,
    0xC09C TLS_RSA_WITH_AES_128_CCM,
    0xC09D TLS_RSA_WITH_AES_256_CCM,
    0xC0A0 TLS_RSA_WITH_AES_128_CCM_8,
    0xC0A1 TLS_RSA_WITH_AES_256_CCM_8,
    0xC050 TLS_RSA_WITH_ARIA_128_GCM_SHA256,
    0xC051 TLS_RSA_WITH_ARIA_256_GCM_SHA384,
    0x00BA TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256,
    0x00C0 TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256,
    0x003C TLS_RSA_WITH_AES_128_CBC_SHA256,
    0x003D TLS_RSA_WITH_AES_256_CBC_SHA256,
    0x002F TLS_RSA_WITH_AES_128_CBC_SHA,
    0x0035 TLS_RSA_WITH_AES_256_CBC_SHA,
    0x0041 TLS_RSA_WITH_CAMELLIA_128_CBC_SHA,
    0x0084 TLS_RSA_WITH_CAMELLIA_256_CBC_SHA,
    0x0096 TLS_RSA_WITH_SEED_CBC_SHA,
    0x000A TLS_RSA_WITH_3DES_EDE_CBC_SHA,
    0x0007 TLS_RSA_WITH_IDEA_CBC_SHA,
    0x0005 TLS_RSA_WITH_RC4_128_SHA,
    0x0004 TLS_RSA_WITH_RC4_128_MD5,
    0x0009 TLS_RSA_WITH_DES_CBC_SHA,
    0x0003 TLS_RSA_EXPORT_WITH_RC4_40_MD5,
    0x0006 TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5,
    0x0008 TLS_RSA_EXPORT_WITH_DES40_CBC_SHA,
    0x003B TLS_RSA_WITH_NULL_SHA256,
    0x0002 TLS_RSA_WITH_NULL_SHA,
    0x0001 TLS_RSA_WITH_NULL_MD5,
    0x00A6 TLS_DH_anon_WITH_AES_128_GCM_SHA256,
    0x00A7 TLS_DH_anon_WITH_AES_256_GCM_SHA384,
    0x006C TLS_DH_anon_WITH_AES_128_CBC_SHA256,
    0x006D TLS_DH_anon_WITH_AES_256_CBC_SHA256,
    0x00BF TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256,
    0x00C5 TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256,
    0x0046 TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA,
    0x0089 TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA,
    0x0034 TLS_DH_anon_WITH_AES_128_CBC_SHA,
    0x003A TLS_DH_anon_WITH_AES_256_CBC_SHA,
    0x001B TLS_DH_anon_WITH_3DES_EDE_CBC_SHA,
    0x0018 TLS_DH_anon_WITH_RC4_128_MD5,
    0xC018 TLS_ECDH_anon_WITH_AES_128_CBC_SHA,
    0xC019 TLS_ECDH_anon_WITH_AES_256_CBC_SHA,
    0xC015 TLS_ECDH_anon_WITH_NULL_SHA,
    0xC017 TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA,
    0xC016 TLS_ECDH_anon_WITH_RC4_128_SHA,
}

/// The suite with code point `id`, if the probe knows it.
pub fn by_id(id: u16) -> Option<Suite> {
    ALL.iter().copied().find(|s| s.id == id)
}

/// `TLS_…` for a known suite, `0xC0FF` for another.
pub fn name(id: u16) -> String {
    by_id(id).map_or_else(|| format!("0x{id:04X}"), |s| s.name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suite_is_once_in_the_table_and_classified() {
        let mut ids: Vec<u16> = ALL.iter().map(|s| s.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
        let weak = |n: &str| ALL.iter().find(|s| s.name == n).and_then(|s| s.weakness());
        assert_eq!(weak("TLS_RSA_WITH_NULL_MD5"), Some("no encryption"));
        assert_eq!(
            weak("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"),
            Some("3DES (64-bit blocks, Sweet32)")
        );
        assert_eq!(
            weak("TLS_DH_anon_WITH_AES_128_CBC_SHA"),
            Some("no server authentication")
        );
        assert_eq!(weak("TLS_RSA_WITH_DES_CBC_SHA"), Some("single DES"));
        assert_eq!(weak("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), None);
        assert!(by_id(0xC02F).is_some_and(|s| s.tls12_only() && !s.tls13()));
        assert!(by_id(0x002F).is_some_and(|s| !s.tls12_only()));
        assert_eq!(name(0xFFFF), "0xFFFF");
    }
}
