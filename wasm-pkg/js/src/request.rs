//! A request from JavaScript into the engine.
//!
//! Every JavaScript string read from Rust is a crossing (wasm-bindgen's `string_get`, a call into the
//! allocator, a view of memory checked for growth); serde-wasm-bindgen adds a crossing per field read
//! and an array per object walked. A request of a few context keys paid for about twenty of them,
//! more than the engine's own work on a typical set. So a plain request is packed in JavaScript into
//! one string (`packRequest`) and read here in place: one crossing per request whatever its size.
//! The packed path takes only what it reads exactly as serde would — strings, booleans, safe
//! integers and arrays of them — and gives anything else (an unknown field, `null`, an object, a
//! fraction, a key spelt twice) to serde-wasm-bindgen, so a request is read, or refused with the
//! same error, whichever path it takes.
//!
//! The packed text: fields ended by NUL — the principal, the action, the resource, then items, each
//! a tag character and its first field: `A` resource account, `I` session issuer, `S` context key
//! (then its value), `M` multivalued context key (then the number of values and the values). A
//! string holding a NUL is never packed.

use crate::{error, from_js};
use iamlet_engine::ffi::js::RequestInput;
use iamlet_engine::{ContextMap, ContextValue, Request};
use wasm_bindgen::prelude::*;

// The context keys no statement reads are left out here too: a key left in JavaScript is a string
// never copied and a value never converted, and it cannot change a decision or what decided it (the
// sidecar's decision cache rests on the same fact). Left out only when its value is one the engine
// would take, so a value it refuses is still refused, by name.
#[wasm_bindgen(inline_js = r#"
const SEP = "\u0000";
const scalar = (v) => typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
const taken = (v) => scalar(v) || (Array.isArray(v) && v.every(scalar));
const plain = (o) => {
  if (o === null || typeof o !== "object") return false;
  const proto = Object.getPrototypeOf(o);
  return proto === Object.prototype || proto === null;
};
const clean = (s) => s.indexOf(SEP) === -1;
// A value's text as the engine writes it, or undefined for serde to read (or refuse).
const text = (v) =>
  typeof v === "string" ? (clean(v) ? v : undefined)
  : typeof v === "boolean" ? (v ? "true" : "false")
  : Number.isSafeInteger(v) ? String(v)
  : undefined;
const optional = (v, tag) =>
  v === undefined ? "" : typeof v === "string" && clean(v) ? tag + v + SEP : undefined;
export function packRequest(request, reads) {
  if (!plain(request)) return undefined;
  for (const field in request) {
    switch (field) {
      case "principal": case "action": case "resource":
      case "resourceAccount": case "sessionIssuer": case "context":
        break;
      default:
        return undefined;
    }
  }
  const { principal, action, resource, context } = request;
  if (typeof principal !== "string" || typeof action !== "string" || typeof resource !== "string"
      || !clean(principal) || !clean(action) || !clean(resource)) return undefined;
  const account = optional(request.resourceAccount, "A");
  const issuer = optional(request.sessionIssuer, "I");
  if (account === undefined || issuer === undefined) return undefined;
  let out = principal + SEP + action + SEP + resource + SEP + account + issuer;
  if (context === undefined || context === null) return out;
  if (!plain(context)) return undefined;
  for (const key in context) {
    const value = context[key];
    if (reads !== null && !reads.has(key.toLowerCase())) {
      if (taken(value)) continue;
      return undefined;
    }
    if (!clean(key)) return undefined;
    if (Array.isArray(value)) {
      out += "M" + key + SEP + value.length + SEP;
      for (let i = 0; i < value.length; i++) {
        const t = text(value[i]);
        if (t === undefined) return undefined;
        out += t + SEP;
      }
    } else {
      const t = text(value);
      if (t === undefined) return undefined;
      out += "S" + key + SEP + t + SEP;
    }
  }
  return out;
}
"#)]
extern "C" {
    /// The request packed, leaving out the context keys whose lower-cased names are not in `reads`
    /// (every key kept when `reads` is `null`); `undefined` when serde must read it.
    #[wasm_bindgen(js_name = packRequest)]
    fn pack_request(request: &JsValue, reads: &JsValue) -> Option<String>;
}

/// Reads a request; `reads` is a JavaScript `Set` of the lower-cased context keys worth reading, or
/// `null` for all of them.
pub(crate) fn read(request: JsValue, reads: &JsValue) -> Result<Request, JsError> {
    if let Some(read) = pack_request(&request, reads).as_deref().and_then(unpack) {
        return read.map_err(error);
    }
    through_serde(request)
}

/// A packed request read back, or `None` when the text is not one this path reads: a key spelt
/// twice (serde decides which spelling wins), or text not packed by `packRequest`.
fn unpack(text: &str) -> Option<Result<Request, String>> {
    let mut fields = text.split('\0');
    let principal = fields.next()?;
    let action = fields.next()?;
    let resource = fields.next()?;
    let (mut account, mut issuer) = (None, None);
    let mut context = ContextMap::new();
    let mut add = |key: &str, value: ContextValue| {
        let fresh = !context.contains(key);
        context.insert(key, value);
        fresh
    };
    loop {
        let item = fields.next()?;
        let Some(tag) = item.chars().next() else {
            // The NUL that ends the last field: the end, if nothing follows.
            break;
        };
        let first = &item[tag.len_utf8()..];
        match tag {
            'A' => account = Some(first),
            'I' => issuer = Some(first),
            'S' => {
                if !add(first, ContextValue::single(fields.next()?)) {
                    return None;
                }
            }
            'M' => {
                let n: usize = fields.next()?.parse().ok()?;
                let mut values = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    values.push(fields.next()?.to_owned());
                }
                if !add(first, ContextValue::multi(values)) {
                    return None;
                }
            }
            _ => return None,
        }
    }
    if fields.next().is_some() {
        return None;
    }
    Some(iamlet_engine::ffi::request_from_parts(
        principal, action, resource, account, issuer, context,
    ))
}

/// Reads a request with serde-wasm-bindgen, which takes (or refuses, naming it) anything.
fn through_serde(request: JsValue) -> Result<Request, JsError> {
    // First the quick way, which only looks up the fields the struct names (see `from_js`). Every
    // key it did not read makes the object's key count exceed the fields read, and only then is
    // the object read again through `from_js`, where serde sees every key and refuses an unknown
    // one (`resource_account`); one call counts the keys, copying no string.
    thread_local! {
        static CONTEXT: JsValue = JsValue::from_str("context");
    }
    let input: RequestInput = serde_wasm_bindgen::from_value(request.clone()).map_err(error)?;
    // An empty context (`context: {}`) was read too: counted, or every such request would be read
    // twice.
    let context = !input.context.is_empty()
        || CONTEXT.with(|k| js_sys::Reflect::has(&request, k).unwrap_or(true));
    let read = 3
        + usize::from(input.resource_account.is_some())
        + usize::from(input.session_issuer.is_some())
        + usize::from(context);
    let keys = js_sys::Object::keys(request.unchecked_ref::<js_sys::Object>()).length();
    let input = if usize::try_from(keys).map_or(true, |k| k > read) {
        from_js::<RequestInput>(request)?
    } else {
        input
    };
    input.compile().map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packed(parts: &[&str]) -> String {
        parts.iter().map(|p| format!("{p}\0")).collect()
    }

    #[test]
    fn packed_requests_read_as_the_engine_builds_them() {
        let text = packed(&[
            "arn:aws:iam::111122223333:user/alice",
            "s3:GetObject",
            "arn:aws:s3:::bucket/key",
            "A444455556666",
            "Saws:SourceIp",
            "203.0.113.10",
            "Maws:TagKeys",
            "2",
            "team",
            "",
            "Saws:PrincipalTag/ü",
            "",
        ]);
        let mut context = ContextMap::new();
        context.insert("aws:SourceIp", "203.0.113.10");
        context.insert("aws:TagKeys", vec!["team", ""]);
        context.insert("aws:PrincipalTag/ü", "");
        let expected = Request::new(
            "arn:aws:iam::111122223333:user/alice",
            "s3:GetObject",
            "arn:aws:s3:::bucket/key",
        )
        .unwrap()
        .with_context(context)
        .with_resource_account("444455556666");
        assert_eq!(unpack(&text).unwrap().unwrap(), expected);
        let bare = packed(&["111122223333", "sqs:SendMessage", "*"]);
        assert_eq!(
            unpack(&bare).unwrap().unwrap(),
            Request::new("111122223333", "sqs:SendMessage", "*").unwrap()
        );
    }

    #[test]
    fn the_engine_s_errors_are_its_own_and_anything_else_goes_to_serde() {
        let bad = packed(&["111122223333", "GetObject", "*"]);
        assert!(unpack(&bad).unwrap().unwrap_err().contains("GetObject"));
        let twice = packed(&["111122223333", "s3:GetObject", "*", "Sa", "1", "SA", "2"]);
        assert!(unpack(&twice).is_none());
        for text in [
            "",
            "111122223333\0s3:GetObject\0*",
            "111122223333\0s3:GetObject\0*\0X\0",
            "111122223333\0s3:GetObject\0*\0Sa\0",
            "111122223333\0s3:GetObject\0*\0Ma\0two\0",
            "111122223333\0s3:GetObject\0*\0Ma\x003\0x\0",
            "111122223333\0s3:GetObject\0*\0\0Sa\0b\0",
        ] {
            assert!(unpack(text).is_none(), "{text:?}");
        }
    }
}
