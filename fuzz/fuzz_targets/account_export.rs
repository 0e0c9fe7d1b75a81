//! Arbitrary text as an account export (`get-account-authorization-details`) and, after a NUL byte,
//! an organization file: parsing and compiling either fails with an error that names its place, or
//! every principal the snapshot lists resolves (with the organization's levels) and answers a request,
//! and the decision agrees with its explanation.

#![no_main]

use iamlet_account::{export, organization::Organization, PrincipalKey, Snapshot};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (export_text, org_text) = match text.split_once('\0') {
        Some((e, o)) => (e, Some(o)),
        None => (text.as_ref(), None),
    };
    let org = org_text.and_then(|t| match Organization::parse("org.json", t) {
        Ok(o) => Some(o),
        Err(e) => {
            assert!(e.to_string().starts_with("org.json"), "{e}");
            None
        }
    });
    let details = match export::parse_export("account.json", export_text) {
        Ok(d) => d,
        Err(e) => {
            assert!(e.to_string().starts_with("account.json"), "{e}");
            return;
        }
    };
    let snapshot = match Snapshot::build(&[("account.json".to_owned(), details)], "account.json") {
        Ok(s) => s,
        Err(e) => {
            assert!(e.to_string().starts_with("account.json"), "{e}");
            return;
        }
    };
    for principal in snapshot.principals().iter().take(16) {
        // Stored ARNs the engine cannot parse are simply not principals a request can name.
        let Ok(key) = PrincipalKey::for_principal(principal, None) else {
            continue;
        };
        let parts = match snapshot.parts(&key) {
            Ok(p) => p,
            Err(e) => panic!("{principal} is listed but does not resolve: {e}"),
        };
        let resolved = parts.assemble(org.as_ref());
        for (action, resource) in [
            ("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/key"),
            ("iam:PassRole", "arn:aws:iam::111122223333:role/admin"),
        ] {
            let Ok(request) = resolved.request(principal, action, resource, Default::default())
            else {
                continue;
            };
            let set = resolved.policy_set();
            let decision = set.evaluate(&request);
            assert_eq!(
                decision,
                set.explain(&request).decision,
                "{principal} {action}"
            );
        }
    }
});
