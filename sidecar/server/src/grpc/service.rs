//! `envoy.service.auth.v3.Authorization` as tonic serves it, with the answer written by
//! [`answer`](super::answer) rather than encoded from envoy-types' `CheckResponse`.
//!
//! What envoy-types' generated `AuthorizationServer` does, for its one method: the request decoded
//! by prost (within the message limit), any other path `UNIMPLEMENTED`, no compression. Only the
//! codec's encoder differs: it takes the [`Outcome`] itself.

use super::ExtAuthz;
use envoy_types::ext_authz::v3::pb::CheckRequest;
use iamlet_authz::Outcome;
use std::convert::Infallible;
use std::task::{Context, Poll};
use tonic::codec::{Codec, EncodeBuf, Encoder};
use tonic::codegen::{http, Body, BoxFuture, Service, StdError};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::Status;

/// The method's path.
const CHECK: &str = "/envoy.service.auth.v3.Authorization/Check";

/// A `CheckRequest` decoded by prost, an [`Outcome`] written as its `CheckResponse`.
#[derive(Debug, Default)]
struct CheckCodec;

impl Codec for CheckCodec {
    type Encode = Outcome;
    type Decode = CheckRequest;
    type Encoder = AnswerEncoder;
    type Decoder = tonic_prost::ProstDecoder<CheckRequest>;

    fn encoder(&mut self) -> AnswerEncoder {
        AnswerEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        tonic_prost::ProstDecoder::default()
    }
}

#[derive(Debug)]
struct AnswerEncoder;

impl Encoder for AnswerEncoder {
    type Item = Outcome;
    type Error = Status;

    fn encode(&mut self, out: Outcome, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        super::answer::write(&out, dst);
        Ok(())
    }
}

/// The `Check` method.
struct CheckMethod(ExtAuthz);

impl UnaryService<CheckRequest> for CheckMethod {
    type Response = Outcome;
    type Future = BoxFuture<tonic::Response<Outcome>, Status>;

    fn call(&mut self, request: tonic::Request<CheckRequest>) -> Self::Future {
        let ext = self.0.clone();
        Box::pin(async move {
            Ok(tonic::Response::new(
                ext.outcome(request.into_inner()).await,
            ))
        })
    }
}

/// The ext_authz gRPC service.
#[derive(Clone, Debug)]
pub(crate) struct AuthorizationService {
    ext: ExtAuthz,
    /// The largest `CheckRequest` read ([`super::max_message_bytes`]).
    max_message_bytes: usize,
}

impl AuthorizationService {
    pub(crate) fn new(ext: ExtAuthz, max_message_bytes: usize) -> Self {
        AuthorizationService {
            ext,
            max_message_bytes,
        }
    }
}

impl NamedService for AuthorizationService {
    const NAME: &'static str = "envoy.service.auth.v3.Authorization";
}

impl<B> Service<http::Request<B>> for AuthorizationService
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if req.uri().path() != CHECK {
            return Box::pin(async {
                Ok(Status::unimplemented("only Check is served").into_http())
            });
        }
        let method = CheckMethod(self.ext.clone());
        let limit = self.max_message_bytes;
        Box::pin(async move {
            let mut grpc = Grpc::new(CheckCodec).apply_max_message_size_config(Some(limit), None);
            Ok(grpc.unary(method, req).await)
        })
    }
}
