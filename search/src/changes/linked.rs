//! The changes of a filtered change list, found from the spans that pass its filters: each
//! span holds the change that opened it and the change that closed it, as the indexer paired
//! their steps ([`palimpsest_schema::StepLink`]), so no step is paired here and no span but
//! the passing ones and the other sides of their changes is read.

use rustc_hash::{FxHashMap, FxHashSet};
use tantivy::{DocAddress, Searcher, SegmentOrdinal};

use palimpsest_schema::{OPEN_ORDINAL, SchemaError, StepLink};

use super::hidden::{HiddenTally, Hiding, Reason, hiding};
use super::{ChangesRequest, PairedEvents, SelectedSpans, passing_event};
use crate::compare::ChangeKind;
use crate::engine::Engine;
use crate::error::{Result, SearchError};
use crate::facts::{SegmentColumns, SpanFact, VersionTable};

/// A change a passing span takes part in, before its version is looked up.
struct Linked {
    doc_hash: u64,
    ordinal: u64,
    /// Its place among its step's changes.
    position: u32,
    kind: ChangeKind,
    before: Option<SpanFact>,
    after: Option<SpanFact>,
}

impl Engine {
    /// The changes at least one passing span takes part in, each once, in the order pairing
    /// their steps lists them (by document, version, then place in the step), as the list
    /// without a filter has them; those the request leaves out are counted.
    pub(super) fn linked_events<'v>(
        &self,
        searcher: &Searcher,
        request: &ChangesRequest,
        versions: &'v VersionTable,
        selected: &SelectedSpans,
        passing: &[SpanFact],
    ) -> Result<PairedEvents<'v>> {
        let mut sides = Sides::new(self, searcher)?;
        let passing_ids: FxHashSet<u64> = passing.iter().map(|s| s.span_id).collect();
        let mut linked = Vec::new();
        let mut ticker = self.deadline.ticker();
        for span in passing {
            if !ticker.step() {
                break;
            }
            let [opened, closed] = sides
                .columns(span.address.segment_ord)?
                .links(span.address.doc_id);
            if let Some(link) = opened {
                linked.push(Linked {
                    doc_hash: span.doc_hash,
                    ordinal: span.opened,
                    position: link.position,
                    kind: link.kind,
                    before: sides.partner(&link)?,
                    after: Some(*span),
                });
            }
            // A change whose later side passes too is listed from that side.
            if let Some(link) = closed.filter(|_| span.closed != OPEN_ORDINAL)
                && !link.partner.is_some_and(|id| passing_ids.contains(&id))
            {
                linked.push(Linked {
                    doc_hash: span.doc_hash,
                    ordinal: span.closed,
                    position: link.position,
                    kind: link.kind,
                    before: Some(*span),
                    after: sides.partner(&link)?,
                });
            }
        }
        ticker.check()?;
        linked.sort_unstable_by_key(|l| (l.doc_hash, l.ordinal, l.position));
        let mut tally = HiddenTally::new(request);
        let mut events = Vec::new();
        for l in linked.into_iter().filter(|l| request.wants(l.kind)) {
            let Some(version) = versions.get(l.doc_hash, l.ordinal) else {
                continue;
            };
            let Some(event) = passing_event(selected, version, l.kind, l.before, l.after) else {
                continue;
            };
            let minor_hidden = event.minor && !request.minor;
            match hiding(version, request) {
                // Not counted when hidden twice over: no one switch shows it.
                Hiding::Twice => {}
                Hiding::By(_) if minor_hidden => {}
                Hiding::By(reason) => tally.hidden(version, reason),
                Hiding::Shown if minor_hidden => tally.hidden(version, Reason::Minor),
                Hiding::Shown => {
                    tally.listed(version);
                    events.push(event);
                }
            }
        }
        Ok(PairedEvents {
            events,
            hidden: tally.finish(),
        })
    }
}

/// Reads the other sides of changes: span addresses by id, and the columns of each segment.
struct Sides<'e> {
    engine: &'e Engine,
    searcher: &'e Searcher,
    addresses: std::sync::Arc<FxHashMap<u64, DocAddress>>,
    columns: FxHashMap<SegmentOrdinal, std::sync::Arc<SegmentColumns>>,
}

impl<'e> Sides<'e> {
    fn new(engine: &'e Engine, searcher: &'e Searcher) -> Result<Sides<'e>> {
        Ok(Sides {
            engine,
            searcher,
            addresses: engine.columns.span_addresses(searcher)?,
            columns: FxHashMap::default(),
        })
    }

    fn columns(&mut self, segment: SegmentOrdinal) -> Result<&SegmentColumns> {
        if !self.columns.contains_key(&segment) {
            let reader = self.searcher.segment_reader(segment);
            let columns = self
                .engine
                .columns
                .get(reader)
                .map_err(SearchError::tantivy("cannot read span columns"))?;
            self.columns.insert(segment, columns);
        }
        Ok(&self.columns[&segment])
    }

    /// The facts of a link's other side, if the change has one.
    fn partner(&mut self, link: &StepLink) -> Result<Option<SpanFact>> {
        let Some(id) = link.partner else {
            return Ok(None);
        };
        let address = *self.addresses.get(&id).ok_or_else(|| {
            SearchError::Schema(SchemaError::Inconsistent(format!(
                "span {id:016x}, a side of a change, is missing"
            )))
        })?;
        let columns = self.columns(address.segment_ord)?;
        Ok(Some(columns.fact(address.segment_ord, address.doc_id, 0.0)))
    }
}
