//! The credential report: `GenerateCredentialReport` and `GetCredentialReport`, authorized on `*`.

use crate::ctx::Ctx;
use crate::Answer;
use base64::Engine as _;
use iamlet_iam_store::{iso8601, ReportState};
use iamlet_query::Xml;

pub(crate) async fn generate(c: &mut Ctx<'_>) -> Answer {
    c.allow("*", Vec::new()).await?;
    let state = c.iam.generate_credential_report(&mut c.tx).await?;
    let mut x = Xml::default();
    x.text("State", state.as_str());
    if state == ReportState::Started {
        x.text(
            "Description",
            "No report exists. Starting a new report generation task",
        );
    }
    Ok(x.finish())
}

pub(crate) async fn get(c: &mut Ctx<'_>) -> Answer {
    c.allow("*", Vec::new()).await?;
    let report = c.iam.credential_report(&mut c.tx).await?;
    let mut x = Xml::default();
    x.text(
        "Content",
        &base64::engine::general_purpose::STANDARD.encode(report.csv.as_bytes()),
    )
    .text("ReportFormat", "text/csv")
    .text("GeneratedTime", &iso8601(report.generated));
    Ok(x.finish())
}
