//! Writing a canonical stream whose blocks interleave as contiguous blocks.
//!
//! A source may keep several blocks open at once (an OpenAI stream
//! interleaves the argument pieces of parallel tool calls), but Anthropic
//! and Responses clients expect one block (item) at a time: its start, all
//! its pieces, its end. [`ContiguousBlocks`] does the reordering once for
//! every such encoder:
//!
//! * a block that starts while none is open is written at once; one that
//!   starts while another is open waits, its pieces buffered in order;
//! * when the open block stops, the waiting blocks are written in the order
//!   they started (each ended at once if the source already stopped it)
//!   until one the source has not stopped is open;
//! * a piece for a block never started starts one of its kind (text or
//!   reasoning; tool arguments without their call have nowhere to go);
//!   a piece or start for a block already written and ended is dropped;
//! * [`ContiguousBlocks::flush`] ends the open block and writes every
//!   waiting one, ended (at the end of a message, or before an error).
//!
//! The encoder says how a block is written by implementing [`BlockWriter`].

use std::collections::{HashSet, VecDeque};

use crate::ir::{BlockStart, Delta};

/// How an encoder writes one block: its start, its pieces, its end.
pub trait BlockWriter {
    fn start(&mut self, block: &BlockStart, out: &mut Vec<u8>);
    fn piece(&mut self, delta: &Delta, out: &mut Vec<u8>);
    fn end(&mut self, out: &mut Vec<u8>);
}

/// A block the source started while another was open: written later.
#[derive(Debug)]
struct Waiting {
    /// The source's block index.
    source: usize,
    block: BlockStart,
    deltas: Vec<Delta>,
    /// The source already stopped it.
    stopped: bool,
}

/// The reordering state (see the module docs). Empty until used: an
/// encoder may take it out with `std::mem::take` to drive itself.
#[derive(Debug, Default)]
pub struct ContiguousBlocks {
    /// Source indices of blocks written (open or ended).
    written: HashSet<usize>,
    /// The source index of the block open in the output.
    open: Option<usize>,
    /// Blocks started by the source but not written yet, in order of
    /// start; empty whenever no block is open.
    waiting: VecDeque<Waiting>,
}

impl ContiguousBlocks {
    /// Whether the source already started the block `source`.
    pub fn known(&self, source: usize) -> bool {
        self.written.contains(&source) || self.waiting.iter().any(|w| w.source == source)
    }

    /// Whether blocks wait to be written.
    pub fn has_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// The source starts a block: written now when no block is open, else
    /// it waits for the open one to stop.
    pub fn start<W: BlockWriter>(
        &mut self,
        w: &mut W,
        source: usize,
        block: &BlockStart,
        out: &mut Vec<u8>,
    ) {
        if self.known(source) {
            return;
        }
        if self.open.is_none() {
            self.write_start(w, source, block, out);
        } else {
            self.waiting.push_back(Waiting {
                source,
                block: block.clone(),
                deltas: Vec::new(),
                stopped: false,
            });
        }
    }

    /// A piece of the block `source`.
    pub fn piece<W: BlockWriter>(
        &mut self,
        w: &mut W,
        source: usize,
        delta: &Delta,
        out: &mut Vec<u8>,
    ) {
        if !self.known(source) {
            let block = match delta {
                Delta::Text(_) => BlockStart::Text,
                Delta::Reasoning(_) | Delta::Signature { .. } => BlockStart::Reasoning,
                Delta::ToolArgs(_) => return,
            };
            self.start(w, source, &block, out);
        }
        if self.open == Some(source) {
            w.piece(delta, out);
        } else if let Some(waiting) = self.waiting.iter_mut().find(|x| x.source == source) {
            waiting.deltas.push(delta.clone());
        }
        // Else the block was written and ended: no valid place is left.
    }

    /// The source stops a block: the open one ends and the waiting blocks
    /// are written; a waiting one is marked to end once written.
    pub fn stop<W: BlockWriter>(&mut self, w: &mut W, source: usize, out: &mut Vec<u8>) {
        if self.open == Some(source) {
            self.end_open(w, out);
            self.write_waiting(w, out);
        } else if let Some(waiting) = self.waiting.iter_mut().find(|x| x.source == source) {
            waiting.stopped = true;
        }
    }

    /// Ends the open block and writes every waiting block, ended.
    pub fn flush<W: BlockWriter>(&mut self, w: &mut W, out: &mut Vec<u8>) {
        self.end_open(w, out);
        while !self.waiting.is_empty() {
            self.write_waiting(w, out);
            self.end_open(w, out);
        }
    }

    fn write_start<W: BlockWriter>(
        &mut self,
        w: &mut W,
        source: usize,
        block: &BlockStart,
        out: &mut Vec<u8>,
    ) {
        self.written.insert(source);
        self.open = Some(source);
        w.start(block, out);
    }

    /// With no block open: writes the waiting blocks in order, each with
    /// its buffered pieces, until one the source has not stopped is open.
    fn write_waiting<W: BlockWriter>(&mut self, w: &mut W, out: &mut Vec<u8>) {
        while self.open.is_none() {
            let Some(waiting) = self.waiting.pop_front() else {
                return;
            };
            self.write_start(w, waiting.source, &waiting.block, out);
            for delta in &waiting.deltas {
                w.piece(delta, out);
            }
            if waiting.stopped {
                self.end_open(w, out);
            }
        }
    }

    fn end_open<W: BlockWriter>(&mut self, w: &mut W, out: &mut Vec<u8>) {
        if self.open.take().is_some() {
            w.end(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes what it is told as text, to check the order.
    #[derive(Default)]
    struct Log(Vec<String>);

    impl BlockWriter for Log {
        fn start(&mut self, block: &BlockStart, _: &mut Vec<u8>) {
            self.0.push(format!("start {block:?}"));
        }
        fn piece(&mut self, delta: &Delta, _: &mut Vec<u8>) {
            self.0.push(format!("piece {delta:?}"));
        }
        fn end(&mut self, _: &mut Vec<u8>) {
            self.0.push("end".into());
        }
    }

    fn call(id: &str) -> BlockStart {
        BlockStart::ToolCall {
            id: id.into(),
            name: "f".into(),
        }
    }

    #[test]
    fn interleaved_blocks_come_out_one_after_the_other() {
        let (mut blocks, mut log, mut out) = (ContiguousBlocks::default(), Log::default(), vec![]);
        blocks.start(&mut log, 0, &call("a"), &mut out);
        blocks.start(&mut log, 1, &call("b"), &mut out);
        blocks.piece(&mut log, 1, &Delta::ToolArgs("B1".into()), &mut out);
        blocks.piece(&mut log, 0, &Delta::ToolArgs("A1".into()), &mut out);
        blocks.stop(&mut log, 1, &mut out);
        blocks.piece(&mut log, 0, &Delta::ToolArgs("A2".into()), &mut out);
        blocks.stop(&mut log, 0, &mut out);
        blocks.piece(&mut log, 0, &Delta::ToolArgs("late".into()), &mut out);
        blocks.piece(&mut log, 2, &Delta::Text("t".into()), &mut out);
        blocks.flush(&mut log, &mut out);
        assert_eq!(
            log.0,
            [
                r#"start ToolCall { id: "a", name: "f" }"#,
                r#"piece ToolArgs("A1")"#,
                r#"piece ToolArgs("A2")"#,
                "end",
                r#"start ToolCall { id: "b", name: "f" }"#,
                r#"piece ToolArgs("B1")"#,
                "end",
                "start Text",
                r#"piece Text("t")"#,
                "end",
            ]
        );
        assert!(!blocks.has_waiting());
    }

    #[test]
    fn flush_writes_waiting_blocks_ended() {
        let (mut blocks, mut log, mut out) = (ContiguousBlocks::default(), Log::default(), vec![]);
        blocks.start(&mut log, 0, &BlockStart::Text, &mut out);
        blocks.start(&mut log, 1, &call("b"), &mut out);
        assert!(blocks.has_waiting());
        blocks.piece(&mut log, 7, &Delta::ToolArgs("{}".into()), &mut out);
        blocks.flush(&mut log, &mut out);
        assert_eq!(
            log.0,
            [
                "start Text",
                "end",
                r#"start ToolCall { id: "b", name: "f" }"#,
                "end"
            ]
        );
    }
}
