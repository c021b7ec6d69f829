//! The operator's branding of the pages, without forking: the product name, a logo file, a
//! primary colour and a stylesheet file (settings `product_name`, `logo_file`,
//! `primary_color`, `css_file`). Files are read once at start-up and served from our own
//! origin (`/assets/logo`, `/assets/theme.css`), so the pages' CSP stays `'self'`. The
//! built-in stylesheet and WebAuthn script are held here too: every asset URL carries its
//! content's version.

use std::path::Path;

use super::{Setting, UiError};

/// The built-in stylesheet (light and dark through `prefers-color-scheme`).
const BUILT_IN_CSS: &str = include_str!("../../assets/tessera.css");
/// The pages' WebAuthn script (`/assets/passkey.js`).
const PASSKEY_JS: &str = include_str!("../../assets/passkey.js");

/// The largest logo file, bytes.
const MAX_LOGO_BYTES: usize = 512 * 1024;

/// An sRGB colour from `#rrggbb` (setting `primary_color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color([u8; 3]);

impl Color {
    /// Parses `#rrggbb` (hex digits, either case).
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text
            .strip_prefix('#')
            .filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()))?;
        let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
        Some(Self([byte(0)?, byte(2)?, byte(4)?]))
    }

    /// WCAG 2.2 relative luminance (§ "relative luminance" definition), 0..=1.
    fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        let [r, g, b] = self.0.map(channel);
        0.2126 * r + 0.7152 * g + 0.0722 * b
    }

    /// The WCAG 2.2 contrast ratio with `other` (1..=21).
    fn contrast(self, other: Self) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// Black or white, whichever contrasts more with this colour: text on it then has at
    /// least 4.58:1, above WCAG 2.2 SC 1.4.3's 4.5:1 for any colour.
    fn text_on(self) -> Self {
        let (black, white) = (Self([0; 3]), Self([255; 3]));
        if self.contrast(white) >= self.contrast(black) {
            white
        } else {
            black
        }
    }
}

impl std::fmt::Display for Color {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [r, g, b] = self.0;
        write!(f, "#{r:02x}{g:02x}{b:02x}")
    }
}

/// The branding an operator configures (all optional).
#[derive(Debug, Clone, Default)]
pub struct ThemeSettings {
    /// The product name in every page's title and header; the catalogue's `product` (tessera)
    /// when unset.
    pub product_name: Option<String>,
    /// A PNG, SVG, JPEG, WebP or GIF file (at most 512 KiB) shown in every page's header.
    pub logo_file: Option<std::path::PathBuf>,
    /// The buttons' colour; its text is black or white, whichever contrasts more.
    pub primary_color: Option<Color>,
    /// A stylesheet loaded after the built-in one, on every page.
    pub css_file: Option<std::path::PathBuf>,
}

/// A logo file: its bytes, media type and version.
pub struct Logo {
    /// The file's content (shared: serving it copies nothing).
    pub bytes: bytes::Bytes,
    /// Its media type, from the file name's extension (the content checked to match).
    pub content_type: &'static str,
    /// The `v` of its URL ([`version`]).
    pub(super) version: String,
}

/// A served text file (a stylesheet or a script): its text (shared) and the `v` of its URL
/// ([`version`]).
pub(super) struct Asset {
    pub(super) text: bytes::Bytes,
    pub(super) version: String,
}

impl Asset {
    fn of(text: String) -> Self {
        Self {
            version: version(text.as_bytes()),
            text: text.into(),
        }
    }
}

/// The loaded branding.
pub(super) struct Theme {
    pub(super) product_name: Option<String>,
    pub(super) stylesheet: Asset,
    pub(super) passkey_script: Asset,
    pub(super) css: Option<Asset>,
    pub(super) logo: Option<Logo>,
}

fn read(key: Setting, path: &Path) -> Result<Vec<u8>, UiError> {
    std::fs::read(path).map_err(|e| key.refused(format!("cannot read {}: {e}", path.display())))
}

/// A logo's media type from its extension, and whether `bytes` look like that type (the first
/// bytes of PNG, JPEG, GIF and WebP files; an SVG's `<svg` element).
fn image_type(extension: &str, bytes: &[u8]) -> Option<(&'static str, bool)> {
    let head = |magic: &[u8]| bytes.starts_with(magic);
    Some(match extension {
        "png" => ("image/png", head(b"\x89PNG\r\n\x1a\n")),
        "jpg" | "jpeg" => ("image/jpeg", head(b"\xff\xd8\xff")),
        "gif" => ("image/gif", head(b"GIF87a") || head(b"GIF89a")),
        "webp" => (
            "image/webp",
            head(b"RIFF") && bytes.get(8..12) == Some(b"WEBP"),
        ),
        "svg" => {
            let svg = bytes.windows(4).any(|w| w.eq_ignore_ascii_case(b"<svg"));
            ("image/svg+xml", svg)
        }
        _ => return None,
    })
}

fn logo(path: &Path) -> Result<Logo, UiError> {
    let key = Setting::LOGO_FILE;
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let known = image_type(&extension, b"").is_some();
    if !known {
        let why = "is not a .png, .svg, .jpg, .jpeg, .webp or .gif file";
        return Err(key.refused(format!("{} {why}", path.display())));
    }
    let bytes = read(key, path)?;
    if bytes.len() > MAX_LOGO_BYTES {
        return Err(key.refused(format!("{} is larger than 512 KiB", path.display())));
    }
    match image_type(&extension, &bytes) {
        Some((content_type, true)) => Ok(Logo {
            version: version(&bytes),
            bytes: bytes.into(),
            content_type,
        }),
        _ => Err(key.refused(format!(
            "{} is not a .{extension} image (its content does not start like one)",
            path.display()
        ))),
    }
}

/// The `v` of an asset's URL: the first 8 bytes of its SHA-256, hex, so a browser that cached
/// the file (`Cache-Control: public, max-age=3600`) fetches a changed one after a restart.
fn version(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Theme {
    /// Reads the files `settings` names.
    pub(super) fn load(settings: &ThemeSettings) -> Result<Self, UiError> {
        let mut stylesheet = BUILT_IN_CSS.to_owned();
        if let Some(primary) = settings.primary_color {
            // WCAG 2.2 SC 1.4.11: a button needs 3:1 against the page, light (#fff) and dark
            // (#121212, Chromium's dark Canvas). The operator's choice, so a warning.
            let (light, dark) = (Color([255; 3]), Color([0x12; 3]));
            let against = primary.contrast(light).min(primary.contrast(dark));
            if against < 3.0 {
                tracing::warn!(
                    primary_color = %primary,
                    contrast = format!("{against:.2}"),
                    "primary_color has less than 3:1 contrast with the light or the dark page background (WCAG 2.2 SC 1.4.11): buttons may be hard to see"
                );
            }
            // Later in the sheet than the built-in values, so it wins in both appearances.
            stylesheet.push_str(&format!(
                ":root {{ --primary: {primary}; --on-primary: {}; }}\n",
                primary.text_on()
            ));
        }
        let css = match &settings.css_file {
            Some(path) => {
                let key = Setting::CSS_FILE;
                let text = String::from_utf8(read(key, path)?)
                    .map_err(|_| key.refused(format!("{} is not UTF-8 text", path.display())))?;
                Some(Asset::of(text))
            }
            None => None,
        };
        Ok(Self {
            product_name: settings.product_name.clone(),
            stylesheet: Asset::of(stylesheet),
            passkey_script: Asset::of(PASSKEY_JS.to_owned()),
            css,
            logo: settings.logo_file.as_deref().map(logo).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_parse_and_text_on_them_has_at_least_aa_contrast() {
        assert_eq!(Color::parse("#1F5fbf"), Some(Color([0x1f, 0x5f, 0xbf])));
        for bad in ["1f5fbf", "#1f5fb", "#1f5fbfa", "#gg0000", "#+f0000"] {
            assert_eq!(Color::parse(bad), None, "{bad}");
        }
        let white = Color([255; 3]);
        assert!((Color([0; 3]).contrast(white) - 21.0).abs() < 1e-9);
        for hex in [
            "#1f5fbf", "#ffcc00", "#777777", "#00a000", "#ff0000", "#000000",
        ] {
            let c = Color::parse(hex).unwrap();
            assert!(c.contrast(c.text_on()) >= 4.5, "{hex}");
        }
        assert_eq!(Color::parse("#ffcc00").unwrap().text_on(), Color([0; 3]));
        assert_eq!(Color::parse("#1f5fbf").unwrap().to_string(), "#1f5fbf");
    }

    #[test]
    fn a_logo_must_be_what_its_extension_says() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(image_type("png", png), Some(("image/png", true)));
        assert_eq!(image_type("png", b"not a png"), Some(("image/png", false)));
        assert_eq!(image_type("png", b""), Some(("image/png", false)));
        let svg = br#"<?xml version="1.0"?><SVG xmlns="http://www.w3.org/2000/svg"/>"#;
        assert_eq!(image_type("svg", svg), Some(("image/svg+xml", true)));
        assert_eq!(
            image_type("webp", b"RIFF\0\0\0\0WEBPVP8 "),
            Some(("image/webp", true))
        );
        assert_eq!(image_type("bmp", b"BM"), None);
        assert_eq!(version(b"a").len(), 16);
    }
}
