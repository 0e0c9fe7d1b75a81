//! Virtual MFA devices: `CreateVirtualMFADevice`, `EnableMFADevice`, `DeactivateMFADevice`,
//! `ResyncMFADevice`, `ListMFADevices`, `ListVirtualMFADevices`, `DeleteVirtualMFADevice`.
//!
//! `CreateVirtualMFADevice` answers, once, the seed as AWS does: `Base32StringSeed` (the base32
//! text, base64-encoded as every blob in IAM's XML) and `QRCodePNG` (a PNG of the QR code of the
//! `otpauth://` URI authenticator apps scan, base64-encoded). Neither is ever logged.

use super::keys::{subject, Subject};
use crate::ctx::{request_tags, Ctx};
use crate::{render, Answer};
use base64::Engine as _;
use iamlet_iam_store::names::missing;
use iamlet_iam_store::{
    iso8601, parse_code, parse_serial, Assignment, IamError, NameKind, Paged, UserMfaDevice,
};
use iamlet_query::Xml;

/// Pixels per QR module, and modules of quiet zone around the code (the QR standard's four).
const MODULE_PIXELS: usize = 4;
const QUIET_MODULES: usize = 4;

/// A PNG (8-bit greyscale) of the QR code of `text`.
fn qr_png(text: &str) -> Result<Vec<u8>, IamError> {
    let code = qrcode::QrCode::new(text.as_bytes())
        .map_err(|e| IamError::service(format!("making the QR code: {e}")))?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_MODULES) * MODULE_PIXELS;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != qrcode::Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET_MODULES, i / modules + QUIET_MODULES);
        for dy in 0..MODULE_PIXELS {
            let row = (my * MODULE_PIXELS + dy) * side;
            let start = row + mx * MODULE_PIXELS;
            if let Some(run) = pixels.get_mut(start..start + MODULE_PIXELS) {
                run.fill(0);
            }
        }
    }
    let side = u32::try_from(side).map_err(|_| IamError::service("the QR code is too large"))?;
    let mut out = Vec::new();
    let png_error =
        |e: png::EncodingError| IamError::service(format!("writing the QR code's PNG: {e}"));
    {
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(png_error)?;
        writer.write_image_data(&pixels).map_err(png_error)?;
        writer.finish().map_err(png_error)?;
    }
    Ok(out)
}

pub(crate) async fn create(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("VirtualMFADeviceName", NameKind::MfaDevice)?;
    let path = c.req.path("Path")?;
    let tags = c.req.tags()?;
    let serial = c.iam.mfa_serial(&path, &name);
    let keys = request_tags(&tags);
    c.allow(&serial, keys.clone()).await?;
    if !tags.is_empty() {
        c.allow_action("iam:TagMFADevice", &serial, keys).await?;
    }
    let created = c
        .iam
        .create_virtual_mfa_device(&mut c.tx, &path, &name, &tags)
        .await?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let png = qr_png(created.otpauth_uri.expose())?;
    let mut x = Xml::default();
    x.open("VirtualMFADevice")
        .text("SerialNumber", &created.device.serial)
        .text("Base32StringSeed", &b64.encode(created.seed.expose()))
        .text("QRCodePNG", &b64.encode(png));
    if !tags.is_empty() {
        render::tags(&mut x, &tags);
    }
    x.close("VirtualMFADevice");
    Ok(x.finish())
}

/// `UserName`, `SerialNumber` and two codes, the user authorized.
async fn with_codes(
    c: &mut Ctx<'_>,
) -> Result<(iamlet_iam_store::Name, String, String, String), IamError> {
    let user = c.req.name("UserName", NameKind::User)?;
    let serial = parse_serial("SerialNumber", c.req.required("SerialNumber")?)?;
    let code1 = parse_code(
        "AuthenticationCode1",
        c.req.required("AuthenticationCode1")?,
    )?;
    let code2 = parse_code(
        "AuthenticationCode2",
        c.req.required("AuthenticationCode2")?,
    )?;
    c.target_user(&user, Vec::new()).await?;
    Ok((user, serial, code1, code2))
}

pub(crate) async fn enable(c: &mut Ctx<'_>) -> Answer {
    let (user, serial, code1, code2) = with_codes(c).await?;
    c.iam
        .enable_mfa_device(&mut c.tx, &user, &serial, &code1, &code2)
        .await?;
    Ok(String::new())
}

pub(crate) async fn resync(c: &mut Ctx<'_>) -> Answer {
    let (user, serial, code1, code2) = with_codes(c).await?;
    c.iam
        .resync_mfa_device(&mut c.tx, &user, &serial, &code1, &code2)
        .await?;
    Ok(String::new())
}

pub(crate) async fn deactivate(c: &mut Ctx<'_>) -> Answer {
    let serial = parse_serial("SerialNumber", c.req.required("SerialNumber")?)?;
    let Subject::User(user) = subject(c, "UserName")? else {
        return Err(missing("UserName"));
    };
    c.target_user(&user, Vec::new()).await?;
    c.iam
        .deactivate_mfa_device(&mut c.tx, &user, &serial)
        .await?;
    Ok(String::new())
}

pub(crate) async fn list(c: &mut Ctx<'_>) -> Answer {
    let page = c.req.page()?;
    let devices = match subject(c, "UserName")? {
        Subject::User(user) => {
            c.target_user(&user, Vec::new()).await?;
            c.iam.list_mfa_devices(&mut c.tx, &user, &page).await?
        }
        // The root user's devices are not IAM's to assign here: it has none.
        Subject::Root => {
            let arn = c.iam.root_arn();
            c.allow(&arn, Vec::new()).await?;
            Paged::<UserMfaDevice> {
                items: Vec::new(),
                marker: None,
            }
        }
    };
    let mut x = Xml::default();
    x.list("MFADevices", &devices.items, |x, d| {
        x.text("UserName", &d.user_name)
            .text("SerialNumber", &d.serial)
            .text("EnableDate", &iso8601(d.enabled));
    });
    render::truncation(&mut x, &devices);
    Ok(x.finish())
}

pub(crate) async fn list_virtual(c: &mut Ctx<'_>) -> Answer {
    let which = Assignment::parse("AssignmentStatus", c.req.get("AssignmentStatus"))?;
    let page = c.req.page()?;
    c.allow("*", Vec::new()).await?;
    let devices = c
        .iam
        .list_virtual_mfa_devices(&mut c.tx, which, &page)
        .await?;
    let mut x = Xml::default();
    x.list("VirtualMFADevices", &devices.items, |x, d| {
        x.text("SerialNumber", &d.serial);
        if let Some(u) = &d.user {
            x.open("User");
            render::user(x, u);
            x.close("User");
        }
        if let Some(at) = d.enabled {
            x.text("EnableDate", &iso8601(at));
        }
        if !d.tags.is_empty() {
            render::tags(x, &d.tags);
        }
    });
    render::truncation(&mut x, &devices);
    Ok(x.finish())
}

pub(crate) async fn delete(c: &mut Ctx<'_>) -> Answer {
    let serial = parse_serial("SerialNumber", c.req.required("SerialNumber")?)?;
    c.allow(&serial, Vec::new()).await?;
    c.iam.delete_virtual_mfa_device(&mut c.tx, &serial).await?;
    Ok(String::new())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_qr_code_is_a_png() {
        let png = super::qr_png(
            "otpauth://totp/Iamlet:bob@111122223333?secret=JBSWY3DPEHPK3PXP&issuer=Iamlet",
        )
        .unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let decoder = png::Decoder::new(png.as_slice());
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!(info.width, info.height);
        // A version-4 or larger code (33+ modules) with its quiet zone, four pixels a module.
        assert!(info.width >= (33 + 8) * 4, "{}", info.width);
    }
}
