//! Multi-turn conversations: which conversation a trace of a session scenario belongs to.
//!
//! The rate counts traces, and a conversation is a run of traces (its turns). So a start slot
//! given to a session scenario continues the conversation of that scenario that has been ready
//! the longest (its last turn ended and the user's think time passed), or starts a new one when
//! none is ready. A conversation has at most one turn running, and is ready again only after
//! that turn ended plus a think time: its turns start in order, spaced as a user spaces them.
//! How many conversations run at once follows from the rate, the turns' duration and the think
//! time, as with real users.
//!
//! A conversation's id (the seed of `gen_ai.conversation.id` and the session keys) is drawn
//! from its first trace's id, fresh per run; its content is seeded by its first turn's content
//! seed and the turn's number, so the same `--seed` repeats it turn for turn.

use std::collections::{BinaryHeap, HashMap};
use std::sync::Mutex;

use rand::Rng;
use tokio::time::Instant;

use crate::content::Turn;
use crate::exec::mix;
use crate::scenario::Session;

/// Salt of a conversation's number of turns, drawn from its content seed.
const TURNS_SALT: u64 = 0x7E_5E_55_10_4E;
/// Salt of the think time after each turn.
const THINK_SALT: u64 = 0x7411_4C00;

/// One conversation between its turns.
#[derive(Debug)]
pub struct Conversation {
    /// Decides the conversation's id ([`crate::exec::TraceRun::in_conversation`]).
    pub id_seed: u64,
    /// Its first turn's content seed: later turns' seeds derive from it.
    content_seed: u64,
    /// Turns it will have in all, and turns run so far.
    turns: u32,
    done: u32,
    /// What was said in the turns so far, oldest first.
    pub history: Vec<Turn>,
    ready_at: Instant,
}

impl Conversation {
    /// The content seed of the turn about to run.
    pub fn content_seed(&self) -> u64 {
        if self.done == 0 {
            self.content_seed
        } else {
            mix(self.content_seed, u64::from(self.done))
        }
    }

    /// The seed of what the conversation is about (its first turn's content seed).
    pub fn facts_seed(&self) -> u64 {
        self.content_seed
    }

    /// Whether the turn about to run is the first.
    pub fn is_new(&self) -> bool {
        self.done == 0
    }
}

/// Ready-queue order: the earliest ready first (a max-heap of the reversed time).
#[derive(Debug)]
struct Waiting(Conversation);

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        self.0.ready_at == other.0.ready_at
    }
}
impl Eq for Waiting {}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.0.ready_at.cmp(&self.0.ready_at)
    }
}

/// The conversations between turns, by scenario (index in the mix).
#[derive(Debug, Default)]
pub struct Sessions {
    waiting: Mutex<HashMap<usize, BinaryHeap<Waiting>>>,
}

/// What became of a turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TurnEnd {
    /// It ran to its end at `at` (the end of its simulated time with the synthetic clock).
    Ended { at: Instant },
    /// It could not start (no room for a whole trace): the conversation waits for a slot.
    NotStarted,
}

impl Sessions {
    /// The conversation the next trace of scenario `index` continues, or a new one seeded by
    /// the slot's `content_seed` and `id_seed` when none is ready at `now`.
    pub fn next(
        &self,
        index: usize,
        session: &Session,
        content_seed: u64,
        id_seed: u64,
        now: Instant,
    ) -> Conversation {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(heap) = waiting.get_mut(&index)
            && heap.peek().is_some_and(|w| w.0.ready_at <= now)
            && let Some(Waiting(conversation)) = heap.pop()
        {
            return conversation;
        }
        let mut rng = crate::content::rng(mix(content_seed, TURNS_SALT));
        let turns = rng.random_range(session.min_turns.max(1)..=session.max_turns.max(1));
        Conversation { id_seed, content_seed, turns, done: 0, history: Vec::new(), ready_at: now }
    }

    /// Takes back `conversation` after one of its turns; `true` when that was its last turn
    /// (it is then finished and forgotten). `turn` is what the turn said, for the next ones.
    pub fn turn_over(
        &self,
        index: usize,
        session: &Session,
        mut conversation: Conversation,
        turn: Option<Turn>,
        end: TurnEnd,
    ) -> bool {
        let ready_at = match end {
            TurnEnd::NotStarted => Instant::now(),
            TurnEnd::Ended { at } => {
                conversation.done += 1;
                if conversation.done >= conversation.turns {
                    return true;
                }
                conversation.history.extend(turn);
                let mut rng = crate::content::rng(mix(
                    mix(conversation.content_seed, THINK_SALT),
                    u64::from(conversation.done),
                ));
                at + session.think.sample(&mut rng)
            }
        };
        conversation.ready_at = ready_at;
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        waiting.entry(index).or_default().push(Waiting(conversation));
        false
    }
}
