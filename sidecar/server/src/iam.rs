//! The IAM API's listener: HTTP in, [`IamApi::call`] out. The body is read up to the API's limit
//! (a larger one is refused before it is read whole); everything else is the API's.

use crate::http::{header_map, unbuildable};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use iamlet_iam_api::{ApiRequest, ApiResponse, IamApi, MAX_BODY_BYTES};
use iamlet_iam_store::{ErrorCode, IamError};
use std::net::SocketAddr;

/// Answers one HTTP request to the IAM API.
pub(crate) async fn handle(
    api: &IamApi,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let answer = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Err(_) => ApiResponse::error(&IamError::new(
            ErrorCode::ValidationError,
            format!("the request body is over {MAX_BODY_BYTES} bytes"),
        )),
        Ok(b) => {
            let headers = header_map(&parts.headers);
            api.call(ApiRequest {
                method: parts.method.as_str().to_owned(),
                host: headers.get("host").cloned().unwrap_or_default(),
                path: parts
                    .uri
                    .path_and_query()
                    .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
                headers,
                body: b.to_bytes().to_vec(),
                peer,
            })
            .await
        }
    };
    Response::builder()
        .status(answer.status)
        .header("content-type", "text/xml")
        .header("x-amzn-requestid", &answer.request_id)
        .body(Full::new(Bytes::from(answer.body)))
        .unwrap_or_else(|_| unbuildable())
}
