//! [`AppState`]: the engine shared by handlers, and admission: a concurrency cap, a bounded
//! queue and a time budget around every read of the index.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use palimpsest_search::{Engine, SearchError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::error::ApiError;
use crate::options::ServerOptions;

/// What every handler sees. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    options: ServerOptions,
    running: Arc<Semaphore>,
    waiting: AtomicUsize,
    exports: Arc<Semaphore>,
}

/// A slot to read the index; the slot is free again when this is dropped.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl AppState {
    /// Shares `engine` under `options`; the engine takes the options' search limits, an
    /// answer's text at most the budget of unsent bytes (a larger answer could never be sent,
    /// so it is refused while it is built rather than once it is whole).
    pub fn new(engine: Engine, options: ServerOptions) -> AppState {
        let limits = palimpsest_search::Limits {
            max_answer_bytes: options
                .limits
                .max_answer_bytes
                .min(options.max_unsent_bytes),
            ..options.limits
        };
        let engine = engine.with_limits(limits);
        AppState {
            inner: Arc::new(Inner {
                running: Arc::new(Semaphore::new(options.max_concurrency)),
                waiting: AtomicUsize::new(0),
                exports: Arc::new(Semaphore::new(options.max_exports)),
                engine,
                options,
            }),
        }
    }

    /// The options the server runs with.
    pub fn options(&self) -> &ServerOptions {
        &self.inner.options
    }

    /// Takes a slot without waiting, if one is free: what a request holds while it reads
    /// the index. Holding slots makes the server shed load (useful to test that it does).
    pub fn try_slot(&self) -> Option<Slot> {
        self.inner
            .running
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|permit| Slot { _permit: permit })
    }

    /// Runs `work` on a blocking thread once a slot is free, within the time budget.
    ///
    /// The engine `work` gets stops at the deadline ([`Engine::until`]): a request past its
    /// budget is answered with 503 at once, and its work gives up at its next look at the
    /// clock (a loop step or a batch of documents later) and frees its slot.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Engine) -> Result<T, SearchError> + Send + 'static,
    {
        let budget = self.inner.options.time_budget;
        let deadline = Instant::now() + budget;
        let slot = self.admit(deadline).await?;
        let state = self.clone();
        let task = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            if Instant::now() >= deadline {
                return None;
            }
            Some(work(&state.inner.engine.until(deadline.into_std())))
        });
        match tokio::time::timeout_at(deadline, task).await {
            Ok(Ok(Some(Err(SearchError::Timeout)))) => Err(ApiError::time_budget(budget)),
            Ok(Ok(Some(result))) => result.map_err(ApiError::from),
            Ok(Ok(None)) | Err(_) => Err(ApiError::time_budget(budget)),
            Ok(Err(join)) => Err(ApiError::internal("the request failed", join)),
        }
    }

    /// Admits an export: one of the few export slots, taken at once or refused, and a slot
    /// to find its order, waited for within the time budget; with the engine the order is
    /// found with (stopping at the budget).
    pub(crate) async fn admit_export(&self) -> Result<(Slot, Slot, Engine), ApiError> {
        let export = self
            .inner
            .exports
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::exports_busy(self.inner.options.max_exports))?;
        let deadline = Instant::now() + self.inner.options.time_budget;
        let slot = self.admit(deadline).await?;
        let engine = self.inner.engine.until(deadline.into_std());
        Ok((slot, Slot { _permit: export }, engine))
    }

    async fn admit(&self, deadline: Instant) -> Result<Slot, ApiError> {
        let inner = &self.inner;
        if let Some(slot) = self.try_slot() {
            return Ok(slot);
        }
        if inner.waiting.fetch_add(1, Ordering::SeqCst) >= inner.options.max_queue {
            inner.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::overloaded());
        }
        let _leave = LeaveQueue(&inner.waiting);
        match tokio::time::timeout_at(deadline, inner.running.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Slot { _permit: permit }),
            Ok(Err(_closed)) => Err(ApiError::overloaded()),
            Err(_) => Err(ApiError::time_budget(inner.options.time_budget)),
        }
    }
}

struct LeaveQueue<'a>(&'a AtomicUsize);

impl Drop for LeaveQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
