//! Realistic content: message text, tool results, conversation history.
//!
//! Backends index, store and compress what they receive, so load-test payloads must look like
//! real traffic: words, numbers, names and JSON with the entropy of chat and API answers (they
//! gzip 2.5x to 6x; padding like `"xxxx"` gzips 40x and more and makes bandwidth figures lie).
//!
//! Generating such text is slow compared with encoding and sending it, so pools are built once
//! per process from a fixed seed ([`POOL_SEED`]) and every message or tool result is assembled
//! from slices picked by the step's random source: content is deterministic per seed and costs
//! little more than a copy.
//!
//! ```
//! use rand::SeedableRng;
//! use scenario_runtime::content::{self, ToolKind};
//!
//! let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
//! let result = content::tool_result(ToolKind::Flights, &mut rng, 4096);
//! assert_eq!(result.len(), 4096);
//! assert!(serde_json::from_str::<serde_json::Value>(&result).is_ok());
//! ```

mod conversation;
mod facts;
mod records;
mod text;
pub mod vocab;

use std::sync::OnceLock;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

pub use conversation::{Conversation, Prompt, Turn};
pub use facts::Facts;
pub use records::ToolKind;
pub use text::{Domain, SlotValues, TextPool};

/// One document a retrieval returned: its id in the store, its relevance score and its text
/// (ASCII prose, safe inside a JSON string).
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub id: String,
    pub score: f64,
    pub content: String,
}

/// Seed of the shared pools: fixed, so the same step seed gives the same bytes in every process.
pub const POOL_SEED: u64 = 0x5CA1_E7E5_7C0D_E5EE;

/// Bytes of prose in the text pool. Large enough that a message rarely shares text with another
/// in the same request, small enough to build in well under a second.
pub const TEXT_POOL_BYTES: usize = 4 << 20;

/// Records per tool kind.
pub const RECORDS_PER_KIND: usize = 3000;

/// Records per destination of the kinds about places (flights, hotels, cars, weather): a result
/// of up to about 180 KB about one destination repeats none, and the results of one long trace
/// overlap little (they compress like real traffic, not like repeats).
pub const RECORDS_PER_PLACE: usize = 400;

/// About how many bytes of text a token stands for.
pub const BYTES_PER_TOKEN: usize = crate::shape::BYTES_PER_TOKEN as usize;

/// A fast deterministic random source seeded with `seed`, as the content functions take.
pub fn rng(seed: u64) -> SmallRng {
    SmallRng::seed_from_u64(seed)
}

/// Builds every pool now (a fraction of a second), so that the first traces of a load run do
/// not pay for it and start late.
pub fn prepare() {
    for domain in Domain::ALL {
        neutral_pool(domain);
        domain_pool(domain);
    }
    for kind in ToolKind::ALL {
        record_pool(kind);
    }
}

/// The shared prose pool about no trace (travel sentences, their facts in neutral words).
pub fn text_pool() -> &'static TextPool {
    neutral_pool(Domain::Travel)
}

/// Bytes of each pool without slots (records' notes, text about no trace).
const NEUTRAL_POOL_BYTES: usize = 1 << 20;

/// The prose of `domain` without slots, built on first use.
fn neutral_pool(domain: Domain) -> &'static TextPool {
    static POOLS: [OnceLock<TextPool>; 4] = [const { OnceLock::new() }; 4];
    POOLS[domain.index()]
        .get_or_init(|| TextPool::build(NEUTRAL_POOL_BYTES, POOL_SEED, domain, false))
}

/// The prose of `domain` with slots for a trace's facts, built on first use.
fn domain_pool(domain: Domain) -> &'static TextPool {
    static POOLS: [OnceLock<TextPool>; 4] = [const { OnceLock::new() }; 4];
    POOLS[domain.index()]
        .get_or_init(|| TextPool::build(TEXT_POOL_BYTES, POOL_SEED ^ 1, domain, true))
}

/// What a message's prose is about: a trace's facts (their slot text) and its domain.
#[derive(Clone, Debug)]
pub struct Topic {
    pub domain: Domain,
    values: SlotValues,
}

impl Topic {
    /// The prose of a trace about `facts` whose tools are of `kind`.
    pub fn new(facts: &Facts, kind: Option<ToolKind>) -> Self {
        Self { domain: Domain::of(kind), values: SlotValues::of(facts) }
    }
}

/// Appends exactly `len` bytes of prose about `topic` to `out`: sentences of its domain that
/// name its facts (or, with no topic, of no trace).
pub fn push_text_about(out: &mut String, topic: Option<&Topic>, rng: &mut SmallRng, len: usize) {
    match topic {
        Some(topic) => domain_pool(topic.domain).push_about(out, rng, len, &topic.values),
        None => push_text(out, rng, len),
    }
}

/// Exactly `len` bytes of prose about `topic`.
pub fn text_about(topic: &Topic, rng: &mut SmallRng, len: usize) -> String {
    let mut out = String::with_capacity(len);
    push_text_about(&mut out, Some(topic), rng, len);
    out
}

/// The records of one kind in one buffer, and where each holds values a trace rewrites to its
/// facts. Records about places are stored destination by destination, so that one trace's
/// results, which walk its destination's offers in turn, are copied from consecutive memory.
struct RecordPool {
    text: String,
    /// Where each record lies in `text`, in storage order.
    ranges: Vec<(u32, u32)>,
    /// Where the stretch about the trip starts in each record, in storage order (see
    /// [`records::trip_text`]).
    trips: Vec<Option<u16>>,
    /// Records per destination for kinds about places (record `i` of [`records::build_pool`]
    /// is about airport `i % AIRPORTS.len()`), 0 for the others.
    per_place: usize,
}

impl RecordPool {
    fn new(kind: ToolKind, records: Vec<String>) -> Self {
        let cities = vocab::AIRPORTS.len();
        let per_place = if about_places(kind) { records.len() / cities } else { 0 };
        let order: Vec<usize> = if per_place > 0 {
            (0..cities).flat_map(|d| (0..per_place).map(move |k| d + cities * k)).collect()
        } else {
            (0..records.len()).collect()
        };
        let mut text = String::with_capacity(records.iter().map(String::len).sum());
        let mut ranges = Vec::with_capacity(order.len());
        let mut trips = Vec::with_capacity(order.len());
        for i in order {
            let start = text.len() as u32;
            text.push_str(&records[i]);
            ranges.push((start, text.len() as u32));
            trips.push(records::trip_offset(kind, &records[i]));
        }
        Self { text, ranges, trips, per_place }
    }

    fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Where record `i` (its index as [`records::build_pool`] made it) is stored.
    fn stored(&self, i: usize) -> usize {
        if self.per_place == 0 {
            return i;
        }
        let cities = vocab::AIRPORTS.len();
        (i % cities) * self.per_place + i / cities
    }

    /// The record stored at `at`.
    fn record(&self, at: usize) -> &str {
        let (start, end) = self.ranges[at];
        &self.text[start as usize..end as usize]
    }
}

/// The record pool of `kind`, built on first use.
fn record_pool(kind: ToolKind) -> &'static RecordPool {
    static POOLS: [OnceLock<RecordPool>; 8] = [const { OnceLock::new() }; 8];
    POOLS[kind.index()].get_or_init(|| {
        let count = if about_places(kind) {
            RECORDS_PER_PLACE * vocab::AIRPORTS.len()
        } else {
            RECORDS_PER_KIND
        };
        let text = neutral_pool(Domain::of(Some(kind)));
        RecordPool::new(kind, records::build_pool(kind, count, POOL_SEED, text))
    })
}

/// Kinds whose records are about a place (laid out by destination, see [`records`]).
fn about_places(kind: ToolKind) -> bool {
    matches!(kind, ToolKind::Flights | ToolKind::Hotels | ToolKind::Cars | ToolKind::Weather)
}

/// How a result's records are picked: at random from the whole pool, or, for a trace with
/// facts, the destination's records, the offer the trace settles on first, and the dates and
/// origin rewritten to the trace's.
struct Picker {
    pool: &'static RecordPool,
    /// For results about the trace's destination: where its records are stored.
    place: Option<Place>,
    /// What each record says of the trip, in the trace's words ([`records::trip_text`]).
    trip: String,
    /// Records picked so far.
    count: usize,
    /// The walk through the destination's other offers: the next one to take.
    walk: usize,
}

/// A destination's records in a pool, and the offer a trace settles on among them.
#[derive(Clone, Copy)]
struct Place {
    first: usize,
    offers: usize,
    pick: usize,
}

impl Picker {
    fn new(kind: ToolKind, facts: Option<&Facts>) -> Self {
        let pool = record_pool(kind);
        let place = facts.filter(|_| pool.per_place >= 2).map(|facts| Place {
            first: facts.destination_index() * pool.per_place,
            offers: pool.per_place,
            pick: facts.pick(pool.per_place),
        });
        let trip = match facts.filter(|_| place.is_some()) {
            Some(facts) => records::trip_text(kind, facts),
            None => String::new(),
        };
        Self { pool, place, trip, count: 0, walk: 0 }
    }

    /// Where the next record of a result is stored: with facts, the chosen offer first, then
    /// the destination's other offers in turn from a random one, none twice.
    fn next(&mut self, rng: &mut SmallRng) -> usize {
        let count = self.count;
        self.count += 1;
        let Some(place) = self.place else {
            return self.pool.stored(rng.random_range(0..self.pool.len()));
        };
        let others = place.offers - 1;
        if count == 0 {
            self.walk = rng.random_range(0..place.offers) % others;
            return place.first + place.pick;
        }
        let other = self.walk;
        self.walk = if other + 1 == others { 0 } else { other + 1 };
        place.first + other + usize::from(other >= place.pick)
    }

    /// Appends the record stored at `at`, its stretch about the trip rewritten to the facts.
    fn push(&self, out: &mut String, at: usize) {
        let record = self.pool.record(at);
        let pieces = self.pool.trips[at].filter(|_| self.place.is_some()).and_then(|offset| {
            let offset = usize::from(offset);
            Some((record.get(..offset)?, record.get(offset + self.trip.len()..)?))
        });
        match pieces {
            Some((before, after)) => {
                out.push_str(before);
                out.push_str(&self.trip);
                out.push_str(after);
            }
            None => out.push_str(record),
        }
    }
}

/// The id of the offer of `kind` a trace with `facts` settles on: the first record of its
/// results, which the tools acting on it (booking, reviews, availability) pass on.
pub fn chosen_offer(kind: ToolKind, facts: &Facts) -> Option<String> {
    if !about_places(kind) {
        return None;
    }
    let mut picker = Picker::new(kind, Some(facts));
    let mut record = String::new();
    let at = picker.next(&mut rng(0));
    picker.push(&mut record, at);
    records::offer_id(kind, &record).map(str::to_owned)
}

/// The record of `kind` a trace with `facts` settles on, as its results show it.
pub fn chosen_record(kind: ToolKind, facts: &Facts) -> Option<String> {
    if !about_places(kind) {
        return None;
    }
    let mut picker = Picker::new(kind, Some(facts));
    let mut record = String::new();
    let at = picker.next(&mut rng(0));
    picker.push(&mut record, at);
    Some(record)
}

/// Appends exactly `len` bytes of prose to `out` (ASCII; safe inside a JSON string).
pub fn push_text(out: &mut String, rng: &mut SmallRng, len: usize) {
    text_pool().push(out, rng, len);
}

/// Exactly `len` bytes of prose.
pub fn text(rng: &mut SmallRng, len: usize) -> String {
    let mut out = String::with_capacity(len);
    push_text(&mut out, rng, len);
    out
}

/// Appends exactly `len` bytes: `lead` (cut to fit, at a character boundary), a space, then
/// prose. `lead` is ASCII without characters JSON must escape.
pub fn push_led(out: &mut String, lead: &str, len: usize, rng: &mut SmallRng) {
    push_led_about(out, lead, None, len, rng);
}

/// [`push_led`] whose prose is about `topic`.
pub fn push_led_about(
    out: &mut String,
    lead: &str,
    topic: Option<&Topic>,
    len: usize,
    rng: &mut SmallRng,
) {
    if lead.is_empty() || len < 2 {
        push_text_about(out, topic, rng, len);
        return;
    }
    let mut take = lead.len().min(len - 1);
    while !lead.is_char_boundary(take) {
        take -= 1;
    }
    out.push_str(&lead[..take]);
    out.push(' ');
    push_text_about(out, topic, rng, len - take - 1);
}

/// Exactly `len` bytes: `lead`, then prose (see [`push_led`]).
pub fn led_text(lead: &str, rng: &mut SmallRng, len: usize) -> String {
    let mut out = String::with_capacity(len);
    push_led(&mut out, lead, len, rng);
    out
}

/// Exactly `len` bytes: `lead`, then prose about `topic` (see [`push_led`]).
pub fn led_text_about(lead: &str, topic: &Topic, rng: &mut SmallRng, len: usize) -> String {
    let mut out = String::with_capacity(len);
    push_led_about(&mut out, lead, Some(topic), len, rng);
    out
}

/// Arguments of a call to a tool of `kind`: a small JSON object.
pub fn tool_arguments(kind: ToolKind, rng: &mut SmallRng) -> String {
    records::arguments(kind, rng, text_pool(), None, None)
}

/// Arguments of a call to a tool of `kind` about `facts`; `chosen` is the offer the call acts
/// on (see [`chosen_offer`]), for tools that are not searches.
pub fn tool_arguments_about(
    kind: ToolKind,
    facts: &Facts,
    chosen: Option<&str>,
    rng: &mut SmallRng,
) -> String {
    records::arguments(kind, rng, text_pool(), Some(facts), chosen)
}

/// Below this size a tool result is a bare JSON string: no room for an envelope.
const MIN_ENVELOPE: usize = 64;

/// A tool result of `kind`: valid JSON of exactly `size` bytes (`size >= 1`; 0 gives "").
///
/// The result is `{"status":"ok","results":[record,...],"count":N,"note":"..."}`: records are
/// added while they fit, then the note's text takes exactly the bytes left.
pub fn tool_result(kind: ToolKind, rng: &mut SmallRng, size: usize) -> String {
    let mut out = String::with_capacity(size);
    push_tool_result(&mut out, kind, rng, size);
    out
}

/// Appends a tool result of exactly `size` bytes to `out`. See [`tool_result`].
pub fn push_tool_result(out: &mut String, kind: ToolKind, rng: &mut SmallRng, size: usize) {
    push_tool_result_about(out, kind, None, rng, size);
}

/// Appends a tool result of exactly `size` bytes about `facts` (when given): records about the
/// trace's destination and dates, the offer it settles on first.
pub fn push_tool_result_about(
    out: &mut String,
    kind: ToolKind,
    facts: Option<&Facts>,
    rng: &mut SmallRng,
    size: usize,
) {
    let base = out.len();
    match size {
        0 => return,
        1 => {
            out.push('0');
            return;
        }
        s if s < MIN_ENVELOPE => {
            out.push('"');
            let topic = facts.map(|facts| Topic::new(facts, Some(kind)));
            push_text_about(out, topic.as_ref(), rng, s - 2);
            out.push('"');
            return;
        }
        _ => {}
    }
    out.push_str(HEAD);
    let mut picker = Picker::new(kind, facts);
    let mut count = 0usize;
    loop {
        let at = picker.next(rng);
        let record = picker.pool.record(at);
        let separator = usize::from(count > 0);
        let written = out.len() - base;
        if written + separator + record.len() + tail_len(count + 1) > size {
            break;
        }
        if separator == 1 {
            out.push(',');
        }
        picker.push(out, at);
        count += 1;
    }
    out.push_str(r#"],"count":"#);
    out.push_str(&count.to_string());
    out.push_str(r#","note":""#);
    let used = out.len() - base + 2;
    let topic = facts.map(|facts| Topic::new(facts, Some(kind)));
    push_text_about(out, topic.as_ref(), rng, size.saturating_sub(used));
    out.push_str("\"}");
}

/// Appends the tool result [`push_tool_result`] would append, cut to at most `cap` bytes the
/// way agents shorten long tool outputs: its first records (the same ones) and a
/// `"truncated":true` marker, still a JSON object (so no escaping is needed). Results of
/// fewer than `cap` bytes are appended whole.
pub fn push_truncated_tool_result(
    out: &mut String,
    kind: ToolKind,
    facts: Option<&Facts>,
    rng: &mut SmallRng,
    size: usize,
    cap: usize,
) {
    const TAIL: &str = r#"],"truncated":true}"#;
    if size <= cap || size < MIN_ENVELOPE {
        push_tool_result_about(out, kind, facts, rng, size);
        return;
    }
    let base = out.len();
    out.push_str(HEAD);
    let mut picker = Picker::new(kind, facts);
    let mut count = 0usize;
    loop {
        // The same draws as the whole result, which stops at `size` rather than `cap`.
        let at = picker.next(rng);
        let record = picker.pool.record(at);
        let separator = usize::from(count > 0);
        let written = out.len() - base;
        let whole_after = written + separator + record.len() + tail_len(count + 1);
        let cut_after = written + separator + record.len() + TAIL.len();
        if whole_after > size || cut_after > cap {
            break;
        }
        if separator == 1 {
            out.push(',');
        }
        picker.push(out, at);
        count += 1;
    }
    out.push_str(TAIL);
}

/// Bytes before the first record of a tool result.
const HEAD: &str = r#"{"status":"ok","results":["#;

/// Bytes after the last record: `],"count":N,"note":""}`.
fn tail_len(count: usize) -> usize {
    r#"],"count":,"note":""}"#.len() + decimal_digits(count)
}

fn decimal_digits(mut n: usize) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

/// Appends `s` to `out` as the inside of a JSON string (quotes, backslashes and control
/// characters escaped), writing at most `limit` bytes and never half an escape.
pub fn push_json_escaped(out: &mut String, s: &str, limit: usize) -> usize {
    let start = out.len();
    let bytes = s.as_bytes();
    let mut run_start: usize = 0;
    loop {
        let room = limit - (out.len() - start);
        // Only look as far as could still fit: the rest is cut anyway.
        let scan_end = run_start.saturating_add(room).saturating_add(1).min(bytes.len());
        let next = find_escape(&bytes[run_start..scan_end]).map(|offset| run_start + offset);
        let Some(at) = next else {
            push_prefix(out, &s[run_start..], room);
            return out.len() - start;
        };
        // `at` holds an ASCII byte, so it is a character boundary.
        out.push_str(&s[run_start..at]);
        let control;
        let escape = match bytes[at] {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            other => {
                control = format!("\\u{other:04x}");
                control.as_str()
            }
        };
        if out.len() - start + escape.len() > limit {
            return out.len() - start;
        }
        out.push_str(escape);
        run_start = at + 1;
    }
}

/// Whether JSON must escape byte `b` inside a string.
fn needs_escape(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// The offset of the first byte of `bytes` JSON must escape. Prompts and prose rarely hold
/// one, so eight bytes are tested at once, as one word: a byte below 0x20, a quote or a
/// backslash each set the high bit of some lane of `special` (the zero-byte test of "Bit
/// Twiddling Hacks", exact on whether a word holds one), and only a word that holds one is
/// searched byte by byte.
fn find_escape(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v;
    let (words, rest) = bytes.as_chunks::<8>();
    for (index, word) in words.iter().enumerate() {
        let v = u64::from_le_bytes(*word);
        let below_space = v.wrapping_sub(ONES * 0x20) & !v;
        let quote = zero(v ^ (ONES * u64::from(b'"')));
        let backslash = zero(v ^ (ONES * u64::from(b'\\')));
        if (below_space | quote | backslash) & HIGHS != 0 {
            return word.iter().position(|&b| needs_escape(b)).map(|at| index * 8 + at);
        }
    }
    rest.iter().position(|&b| needs_escape(b)).map(|at| words.len() * 8 + at)
}

/// Appends `s` to `out` as a whole JSON string, quotes included: names written by users
/// (agents, tools, models) can hold any character.
pub fn push_json_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    push_json_escaped(out, s, usize::MAX);
    out.push('"');
}

/// Appends at most `limit` bytes of `s`, cut at a character boundary.
fn push_prefix(out: &mut String, s: &str, limit: usize) {
    let mut end = limit.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out.push_str(&s[..end]);
}

/// An id such as `call_Xy3...`: `prefix` then `len` base-62 characters from `seed`.
pub fn id(prefix: &str, seed: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rng(seed);
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    for _ in 0..len {
        out.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_results_have_the_exact_size_and_parse() {
        let mut rng = rng(1);
        for kind in ToolKind::ALL {
            for size in [1, 2, 3, 40, 63, 64, 65, 100, 500, 1000, 4096, 40_000, 100_001] {
                let result = tool_result(kind, &mut rng, size);
                assert_eq!(result.len(), size, "{kind:?} at {size}");
                let parsed: Result<serde_json::Value, _> = serde_json::from_str(&result);
                assert!(parsed.is_ok(), "{kind:?} at {size}: {result}");
            }
        }
    }

    #[test]
    fn truncated_results_are_json_objects_starting_with_the_same_records() {
        for kind in ToolKind::ALL {
            let whole = tool_result(kind, &mut rng(9), 50_000);
            for cap in [256, 1_000, 10_000, 49_999, 50_000] {
                let mut cut = String::new();
                push_truncated_tool_result(&mut cut, kind, None, &mut rng(9), 50_000, cap);
                assert!(cut.len() <= cap, "{kind:?} cut to {cap}: {} bytes", cut.len());
                let parsed: serde_json::Value = serde_json::from_str(&cut)
                    .unwrap_or_else(|e| panic!("{kind:?} cut to {cap}: {e}: {cut}"));
                if cap < 50_000 {
                    assert_eq!(parsed["truncated"], true);
                    let records = cut.trim_end_matches(r#"],"truncated":true}"#);
                    assert!(whole.starts_with(records), "{kind:?}: other records");
                } else {
                    assert_eq!(cut, whole);
                }
            }
        }
    }

    #[test]
    fn text_has_the_exact_length_and_no_characters_to_escape() {
        let mut rng = rng(2);
        for len in [0, 1, 2, 17, 4000, 3 << 20, 5 << 20] {
            let t = text(&mut rng, len);
            assert_eq!(t.len(), len);
            assert!(!t.bytes().any(|b| b == b'"' || b == b'\\' || !(0x20..=0x7e).contains(&b)));
        }
    }

    #[test]
    fn the_first_byte_to_escape_is_found_wherever_it_is() {
        for special in [b'"', b'\\', b'\n', 0x00, 0x1f] {
            for len in 0..40 {
                for at in 0..len {
                    let mut bytes: Vec<u8> = (0..len).map(|i| b"Az 09~\x7f\xc3"[i % 8]).collect();
                    bytes[at] = special;
                    assert_eq!(find_escape(&bytes), Some(at), "{special:#x} at {at} of {len}");
                }
                let clean: Vec<u8> = (0..len).map(|i| [0x20, 0x7e, 0x80, 0xff][i % 4]).collect();
                assert_eq!(find_escape(&clean), None, "{len} bytes");
            }
        }
    }

    #[test]
    fn escaping_never_exceeds_its_limit_nor_splits_an_escape() {
        let input = "{\"a\":\"b\\c\u{1}\n\u{e9}t\u{e9}\"}";
        let mut whole = String::new();
        push_json_escaped(&mut whole, input, usize::MAX / 2);
        assert_eq!(format!("\"{whole}\""), serde_json::to_string(input).unwrap_or_default());
        for limit in 0..30 {
            let mut out = String::new();
            let n = push_json_escaped(&mut out, input, limit);
            assert_eq!(n, out.len());
            assert!(n <= limit);
            let quoted = format!("\"{out}\"");
            assert!(serde_json::from_str::<String>(&quoted).is_ok(), "{quoted}");
        }
    }

    #[test]
    fn tool_kinds_follow_names() {
        assert_eq!(ToolKind::for_tool("search_flights"), ToolKind::Flights);
        assert_eq!(ToolKind::for_tool("book_hotel"), ToolKind::Hotels);
        assert_eq!(ToolKind::for_tool("fetch_reviews"), ToolKind::Hotels);
        assert_eq!(ToolKind::for_tool("rent_car"), ToolKind::Cars);
        assert_eq!(ToolKind::for_tool("get_weather"), ToolKind::Weather);
        assert_eq!(ToolKind::for_tool("run_tests"), ToolKind::Code);
        assert_eq!(ToolKind::for_tool("lookup_ticket"), ToolKind::Tickets);
        assert_eq!(ToolKind::for_tool("rerank"), ToolKind::Documents);
        assert_eq!(ToolKind::for_tool("price_check"), ToolKind::Generic);
    }
}
