//! A deadline for reading a whole request body (`[api.limits] body_read_timeout_secs`), counted from the request's
//! headers — not between frames, so a client trickling one byte at a time cannot hold a request open either.
//!
//! The server wraps every request body in a [`DeadlineBody`] and puts its [`BodyDeadline`] into the request
//! extensions. When the deadline passes while a handler waits for the body, the body read fails; the edge
//! middleware sees [`BodyDeadline::expired`] and answers 408 in the era's error shape (the unread rest of the body
//! makes hyper close the connection afterwards).

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The request-body deadline of one request, shared between its body and the edge middleware.
#[derive(Debug, Clone)]
pub struct BodyDeadline {
    inner: Arc<DeadlineState>,
}

#[derive(Debug)]
struct DeadlineState {
    at: Instant,
    timeout: Duration,
    expired: AtomicBool,
}

impl BodyDeadline {
    /// A deadline `timeout` from now.
    pub fn starting_now(timeout: Duration) -> BodyDeadline {
        BodyDeadline {
            inner: Arc::new(DeadlineState { at: Instant::now() + timeout, timeout, expired: AtomicBool::new(false) }),
        }
    }

    /// Whether a body read failed because the deadline passed.
    pub fn expired(&self) -> bool {
        self.inner.expired.load(Ordering::Relaxed)
    }

    /// The configured timeout (for the error message).
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }
}

/// The error a [`DeadlineBody`] fails with when its deadline passes.
#[derive(Debug, thiserror::Error)]
#[error("the request body was not received within {0:?}")]
pub struct BodyTimedOut(pub Duration);

/// A request body that fails once its [`BodyDeadline`] has passed.
pub struct DeadlineBody<B> {
    inner: B,
    deadline: BodyDeadline,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<B> DeadlineBody<B> {
    /// Wraps `inner`.
    pub fn new(inner: B, deadline: BodyDeadline) -> DeadlineBody<B> {
        DeadlineBody { inner, deadline, sleep: None }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn StdError + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        // Nothing to read now: the client is slow. Fail once the deadline for the whole body has passed.
        let at = this.deadline.inner.at;
        let sleep = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.deadline.inner.expired.store(true, Ordering::Relaxed);
                Poll::Ready(Some(Err(Box::new(BodyTimedOut(this.deadline.timeout())))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
