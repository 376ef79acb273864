//! A pool of realistic prose, built once, that messages are cut from.
//!
//! Generating text word by word runs at a few hundred MB/s, too slow to feed an exporter that
//! must push more than 1 GB/s. So the prose is generated once (a few MB, from a fixed seed) and
//! every message copies a slice of it starting at a random sentence: the cost is a `memcpy`, and
//! since a slice is rarely longer than a small fraction of the pool, each message still has the
//! entropy of fresh text (it gzips like real chat traffic, 2.5x-6x, not like padding).
//!
//! Each domain (travel, support, code, research) has its own pool, and where a sentence names
//! the traveller, the destination, the dates, the order or the ticket, the pool holds a slot
//! marker (a control byte) that copying replaces with the trace's own [`Facts`]: every
//! sentence of a message is about the trace's trip or case, at the cost of one substitution
//! per sentence or so. Pools without slots (their places written as "the destination") feed
//! the records' notes and text about no trace.

use rand::Rng;
use rand::rngs::SmallRng;

use super::ToolKind;
use super::facts::Facts;
use super::vocab::*;

/// What a trace's prose is about: the domain its sentences come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    Travel,
    Support,
    Code,
    Research,
}

impl Domain {
    pub const ALL: [Domain; 4] = [Domain::Travel, Domain::Support, Domain::Code, Domain::Research];

    /// The domain of a trace whose tools are of `kind`.
    pub fn of(kind: Option<ToolKind>) -> Self {
        match kind {
            Some(ToolKind::Tickets) => Domain::Support,
            Some(ToolKind::Code) => Domain::Code,
            Some(ToolKind::Documents) => Domain::Research,
            _ => Domain::Travel,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A fact a sentence names, written in a pool as the control byte `1 + index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Slot {
    FullName,
    FirstName,
    City,
    Origin,
    Code,
    Start,
    End,
    Order,
    Ticket,
    Nights,
    Guests,
    Month,
    Budget,
}

const SLOTS: usize = 13;

/// Every slot, in the order of their markers.
const SLOT_ORDER: [Slot; SLOTS] = [
    Slot::FullName,
    Slot::FirstName,
    Slot::City,
    Slot::Origin,
    Slot::Code,
    Slot::Start,
    Slot::End,
    Slot::Order,
    Slot::Ticket,
    Slot::Nights,
    Slot::Guests,
    Slot::Month,
    Slot::Budget,
];

/// How a slot reads in a pool about no trace: one of a few words naming no one and nowhere.
const NEUTRAL: [&[&str]; SLOTS] = [
    &["the traveller", "the guest", "the passenger", "the customer"],
    &["the traveller", "the guest", "the customer", "you"],
    &["the destination", "the city", "town", "the area"],
    &["home", "the departure city", "the home airport"],
    &["the airport", "the arrival airport", "the terminal"],
    &["the first day", "arrival day", "the check-in date"],
    &["the last day", "departure day", "the checkout date"],
    &["the order", "this order", "the shipment"],
    &["the ticket", "this case", "the request"],
    &["2", "3", "4", "5", "6", "7", "a few"],
    &["1", "2", "3", "4", "two"],
    &["that month", "the season", "spring", "summer", "autumn", "winter"],
    &["120", "150", "180", "200", "250", "300", "the budget"],
];

/// The text of every slot for one trace's facts, in one buffer.
#[derive(Clone, Debug, Default)]
pub struct SlotValues {
    text: String,
    ends: [u16; SLOTS],
}

impl SlotValues {
    /// The slots' text for `facts`. Written piece by piece into one buffer (no formatting
    /// machinery): tool results and messages build it for every copy they make.
    pub fn of(facts: &Facts) -> Self {
        let (first, last) = facts.person();
        let (_, origin) = facts.origin();
        let (code, city) = facts.destination();
        let mut out = Self { text: String::with_capacity(128), ends: [0; SLOTS] };
        let mut number = itoa::Buffer::new();
        for (i, slot) in SLOT_ORDER.iter().enumerate() {
            let text = &mut out.text;
            match slot {
                Slot::FullName => {
                    text.push_str(first);
                    text.push(' ');
                    text.push_str(last);
                }
                Slot::FirstName => text.push_str(first),
                Slot::City => text.push_str(city),
                Slot::Origin => text.push_str(origin),
                Slot::Code => text.push_str(code),
                Slot::Start => text.push_str(facts.start_date().as_str()),
                Slot::End => text.push_str(facts.end_date().as_str()),
                Slot::Order => facts.push_order(text),
                Slot::Ticket => facts.push_ticket(text),
                Slot::Nights => text.push_str(number.format(facts.nights())),
                Slot::Guests => text.push_str(number.format(facts.guests())),
                Slot::Month => text.push_str(facts.month_name()),
                Slot::Budget => text.push_str(number.format(100 + 40 * facts.guests())),
            }
            out.ends[i] = out.text.len() as u16;
        }
        out
    }

    fn get(&self, marker: u8) -> &str {
        let i = usize::from(marker.saturating_sub(1)).min(SLOTS - 1);
        let from = if i == 0 { 0 } else { usize::from(self.ends[i - 1]) };
        self.text.get(from..usize::from(self.ends[i])).unwrap_or("")
    }
}

/// Prose, the offsets where its sentences start and where its slot markers are.
#[derive(Debug)]
pub struct TextPool {
    text: String,
    /// Where each sentence starts, and the index in `marks` of the first marker from there:
    /// a copy starts at a random sentence without searching the pool's tables.
    starts: Vec<(u32, u32)>,
    /// How many sentences start in the pool's first half (see [`Self::random_start`]).
    usable: usize,
    marks: Vec<u32>,
}

impl TextPool {
    /// Generates about `bytes` of prose of `domain` from `seed`, with slot markers when
    /// `slots` (else the slots' neutral words).
    pub fn build(bytes: usize, seed: u64, domain: Domain, slots: bool) -> Self {
        let mut writer = Writer {
            rng: super::rng(seed ^ domain as u64),
            out: String::with_capacity(bytes + 512),
            slots,
        };
        let mut starts = Vec::with_capacity(bytes / 60);
        while writer.out.len() < bytes {
            starts.push(writer.out.len() as u32);
            writer.sentence(domain);
            writer.out.push(' ');
        }
        let marks: Vec<u32> = (0..writer.out.len())
            .filter(|&i| writer.out.as_bytes()[i] < 0x20)
            .map(|i| i as u32)
            .collect();
        let starts: Vec<(u32, u32)> = starts
            .into_iter()
            .map(|start| (start, marks.partition_point(|&m| m < start) as u32))
            .collect();
        let last = (writer.out.len() - (writer.out.len() / 2).max(1)) as u32;
        let usable = starts.partition_point(|&(s, _)| s <= last).max(1);
        Self { text: writer.out, starts, usable, marks }
    }

    /// Appends exactly `len` bytes of prose to `out` with its slots filled from `values`,
    /// starting at a random sentence and ending with a full stop.
    pub fn push_about(
        &self,
        out: &mut String,
        rng: &mut SmallRng,
        len: usize,
        values: &SlotValues,
    ) {
        out.reserve(len);
        let end = out.len() + len;
        let text = self.text.as_str();
        while out.len() < end {
            let (mut at, mark) = self.random_start(rng);
            // Sentence to slot to sentence: the text up to each marker, then the slot's value.
            for &next in self.marks.get(mark..).unwrap_or_default() {
                let next = next as usize;
                let room = end - out.len();
                if next - at >= room {
                    break;
                }
                out.push_str(&text[at..next]);
                let value = values.get(text.as_bytes()[next]);
                let room = room - (next - at);
                out.push_str(&value[..value.len().min(room)]);
                at = next + 1;
                if value.len() >= room {
                    break;
                }
            }
            let room = end - out.len();
            out.push_str(&text[at..(at + room).min(text.len()).max(at)]);
        }
        if len >= 2 {
            out.pop();
            out.push('.');
        }
    }

    /// The whole pool.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Appends exactly `len` bytes of prose to `out`, starting at a random sentence and ending
    /// with a full stop. For pools without slots.
    pub fn push(&self, out: &mut String, rng: &mut SmallRng, len: usize) {
        let mut remaining = len;
        while remaining > 0 {
            let take = remaining.min(self.chunk_max());
            let (start, _) = self.random_start(rng);
            if remaining == take && take >= 2 {
                out.push_str(&self.text[start..start + take - 1]);
                out.push('.');
            } else {
                out.push_str(&self.text[start..start + take]);
            }
            remaining -= take;
        }
    }

    /// A sentence start in the pool's first half, from which any slice the pool hands out
    /// (at most half the pool) fits. The choice does not depend on the slice's length, so the
    /// same random state gives the same text cut to different lengths (an agent's system
    /// prompt is one text, however much of it a budget lets through). Also gives the index of
    /// the first marker from there.
    fn random_start(&self, rng: &mut SmallRng) -> (usize, usize) {
        let (start, mark) = self.starts[rng.random_range(0..self.usable)];
        (start as usize, mark as usize)
    }

    fn chunk_max(&self) -> usize {
        (self.text.len() / 2).max(1)
    }

    /// A short phrase (a few words) for names, titles and notes.
    pub fn phrase(&self, rng: &mut SmallRng, len: usize) -> &str {
        // From a random word, not a sentence's start: templates open alike, and short notes
        // cut from their openings would repeat.
        let mut start = rng.random_range(0..self.text.len() - self.chunk_max());
        let bytes = self.text.as_bytes();
        while start > 0 && bytes[start - 1] != b' ' {
            start -= 1;
        }
        let mut end = start + len.min(self.chunk_max());
        // End on a word boundary so titles do not stop mid-word.
        while end > start + 1 && !self.text.as_bytes()[end - 1].is_ascii_alphanumeric() {
            end -= 1;
        }
        &self.text[start..end]
    }
}

/// Writes sentences of one domain, naming the trace's facts through slots.
struct Writer {
    rng: SmallRng,
    out: String,
    slots: bool,
}

impl Writer {
    /// A word from `list`, favouring its first entries the way real word frequencies do.
    fn word(&mut self, list: &[&'static str]) -> &'static str {
        let u: f64 = self.rng.random();
        list[((u * u * u * list.len() as f64) as usize).min(list.len() - 1)]
    }

    fn any<T: Copy>(&mut self, list: &[T]) -> T {
        list[self.rng.random_range(0..list.len())]
    }

    fn put(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn space(&mut self, s: &str) {
        self.out.push(' ');
        self.out.push_str(s);
    }

    /// A space and a fact: its marker, or its neutral words.
    fn slot(&mut self, slot: Slot) {
        self.out.push(' ');
        if self.slots {
            self.out.push(char::from(slot as u8 + 1));
        } else {
            let words = self.any(NEUTRAL[slot as usize]);
            self.out.push_str(words);
        }
    }

    fn number(&mut self, low: i32, high: i32) {
        let n = self.rng.random_range(low..=high);
        self.out.push(' ');
        self.out.push_str(&n.to_string());
    }

    fn amount(&mut self, low: u32, high: u32) {
        let cents = self.rng.random_range(low * 100..high * 100);
        let currency = self.any(CURRENCIES);
        self.out.push_str(&format!(" {} {}.{:02}", currency, cents / 100, cents % 100));
    }

    fn time(&mut self) {
        let h = self.rng.random_range(5..23u32);
        let m = self.rng.random_range(0..12u32) * 5;
        self.out.push_str(&format!(" {h:02}:{m:02}"));
    }

    fn noun_phrase(&mut self) {
        let det = self.word(DETERMINERS);
        self.space(det);
        if self.rng.random_bool(0.55) {
            let adj = self.word(ADJECTIVES);
            self.space(adj);
        }
        let noun = self.word(NOUNS);
        self.space(noun);
    }

    /// `I can rebook the connecting flight for Maya before the fare expires tonight`.
    fn plan(&mut self, domain: Domain) {
        let (actors, actions, purposes) = match domain {
            Domain::Travel => (ACTORS_TRAVEL, TRAVEL_ACTIONS, TRAVEL_PURPOSES),
            Domain::Support => (ACTORS_SUPPORT, SUPPORT_ACTIONS, SUPPORT_PURPOSES),
            Domain::Code => (ACTORS_CODE, CODE_ACTIONS, CODE_PURPOSES),
            Domain::Research => (ACTORS_RESEARCH, RESEARCH_ACTIONS, RESEARCH_PURPOSES),
        };
        let actor = self.any(actors);
        self.space(actor);
        let action = self.any(actions);
        self.space(action);
        match (self.rng.random_range(0..5u32), domain) {
            (0, Domain::Code) => self.put(" on main"),
            (0, _) => {
                self.put(" for");
                self.slot(Slot::FirstName);
            }
            (1, Domain::Support) => {
                self.put(" for the");
                self.number(2, 9);
                self.put(" items still missing");
            }
            (1, Domain::Code) => {
                self.put(" before");
                self.time();
                self.put(" today");
            }
            (1, _) => {
                self.put(" by");
                self.slot(Slot::Start);
                self.put(" at");
                self.time();
            }
            (2, Domain::Support) => {
                self.put(" under ticket");
                self.slot(Slot::Ticket);
            }
            (2, Domain::Travel | Domain::Research) => {
                self.put(" in");
                self.slot(Slot::City);
            }
            _ => {}
        }
        if self.rng.random_bool(0.5) {
            let purpose = self.any(purposes);
            self.space(purpose);
        }
    }

    fn clause(&mut self) {
        let subject = self.word(SUBJECTS);
        self.space(subject);
        if self.rng.random_bool(0.3) {
            let adverb = self.word(ADVERBS);
            self.space(adverb);
        }
        let verb = self.word(VERBS);
        self.space(verb);
        self.noun_phrase();
        if self.rng.random_bool(0.6) {
            let prep = self.word(PREPOSITIONS);
            self.space(prep);
            self.noun_phrase();
        }
    }

    /// Capitalises the first letter written since `from`.
    fn capitalise(&mut self, from: usize) {
        let rest = self.out.split_off(from);
        let trimmed = rest.trim_start();
        let mut chars = trimmed.chars();
        if let Some(first) = chars.next() {
            self.out.extend(first.to_uppercase());
            self.out.push_str(chars.as_str());
        }
    }

    fn sentence(&mut self, domain: Domain) {
        let from = self.out.len();
        // Text about no trace (records' notes) says more in free words: its slots are a few
        // neutral words, which alone would repeat.
        if !self.slots && self.rng.random_bool(0.5) {
            self.clause();
            self.put(".");
            self.capitalise(from);
            return;
        }
        match self.rng.random_range(0..16u32) {
            0 => {
                self.plan(domain);
                self.put(".");
            }
            1 => {
                self.plan(domain);
                self.put(" within");
                self.number(2, 72);
                self.put(" hours.");
            }
            2 => {
                self.plan(domain);
                self.put(", and");
                self.plan(domain);
                self.put(".");
            }
            // About a third of travel and research sentences name no fact: what the domain
            // says in general (fees, opening hours, what sources report), with figures of its
            // own, as real answers mix the trip's facts with such context.
            4..=8 if matches!(domain, Domain::Travel | Domain::Research) => {
                self.free_sentence(domain);
            }
            4 | 5 if domain == Domain::Support => {
                let item = self.any(SUPPORT_ITEMS);
                self.put(" The order holds");
                self.number(1, 3);
                self.put(&format!(" x {item} (SKU "));
                self.code(b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 8);
                self.put(") at");
                self.amount(8, 450);
                self.put(" each, shipped from warehouse");
                self.number(2, 40);
                self.put(".");
            }
            4 | 5 => {
                self.plan(domain);
                self.put(".");
            }
            3 => {
                self.put(" Would you like me to");
                self.plan_action(domain);
                self.put(" or");
                self.plan_action(domain);
                self.put("?");
            }
            _ => self.fact_sentence(domain),
        }
        self.capitalise(from);
    }

    /// A sentence of travel or research that names no fact: fees, rules, timetables and what
    /// sources report, with figures of its own.
    fn free_sentence(&mut self, domain: Domain) {
        const HEX: &[u8] = b"0123456789abcdef";
        match (domain, self.rng.random_range(0..12u32)) {
            (Domain::Travel, 0) => {
                self.put(" Fares on this route usually rise by");
                self.number(5, 40);
                self.put("% in the last");
                self.number(3, 21);
                self.put(" days before departure, so booking now saves about");
                self.amount(20, 300);
                self.put(".");
            }
            (Domain::Travel, 1) => {
                self.put(" A checked bag costs");
                self.amount(25, 80);
                self.put(" each way on most carriers, and a seat with extra legroom adds");
                self.amount(15, 120);
                self.put(".");
            }
            (Domain::Travel, 2) => {
                self.put(" The airport train runs every");
                self.number(5, 20);
                self.put(" minutes from");
                self.time();
                self.put(" and reaches the centre in");
                self.number(15, 55);
                self.put(" minutes; a taxi costs about");
                self.amount(25, 90);
                self.put(".");
            }
            (Domain::Travel, 3) => {
                self.put(" Check-in opens at");
                self.time();
                self.put(", and guests arriving after");
                self.time();
                self.put(" should tell the front desk in advance.");
            }
            (Domain::Travel, 4) => {
                let (_, airline) = self.any(AIRLINES);
                self.put(&format!(" {airline} allows changes up to"));
                self.number(2, 72);
                self.put(" hours before departure for a fee of");
                self.amount(30, 250);
                self.put(", while its basic fares cannot be changed.");
            }
            (Domain::Travel, 5) => {
                self.number(2, 9);
                self.put(" of the");
                self.number(10, 40);
                self.put(" hotels in the results offer free cancellation, and");
                self.number(1, 8);
                self.put(" include breakfast in the rate.");
            }
            (Domain::Travel, 6) => {
                let brand = self.any(HOTEL_BRANDS);
                let kind = self.any(HOTEL_KINDS);
                self.put(&format!(" The {brand} {kind} charges a city tax of"));
                self.amount(1, 9);
                self.put(" per person per night, payable at the hotel.");
            }
            (Domain::Travel, 7) => {
                let vendor = self.any(CAR_VENDORS);
                self.put(&format!(" {vendor} asks for a deposit of"));
                self.amount(150, 900);
                self.put(" on a credit card and charges");
                self.amount(8, 30);
                self.put(" per day for a second driver.");
            }
            (Domain::Travel, 8) => {
                self.put(" Morning flights have left on time");
                self.number(60, 97);
                self.put("% of the time this month, against");
                self.number(40, 85);
                self.put("% for evening departures.");
            }
            (Domain::Travel, 9) => {
                let sight = self.any(SIGHTS);
                self.put(&format!(" Near {sight} the quieter streets have rooms from"));
                self.amount(60, 250);
                self.put(", about");
                self.number(10, 35);
                self.put("% less than the busiest blocks.");
            }
            (Domain::Travel, 10) => {
                self.put(" Travel insurance for a trip of this length costs between");
                self.amount(15, 40);
                self.put(" and");
                self.amount(45, 140);
                self.put(", depending on the cover.");
            }
            (Domain::Travel, _) => {
                let condition = self.any(CONDITIONS);
                let sight = self.any(SIGHTS);
                self.put(&format!(
                    " Mornings are often {condition}, so {sight} is best seen before"
                ));
                self.time();
                self.put(".");
            }
            (_, 0) => {
                self.put(" Guide");
                self.number(1, 9);
                self.put(" from");
                self.number(2019, 2025);
                self.put(" lists");
                self.number(8, 40);
                self.put(" places worth a visit,");
                self.number(2, 7);
                self.put(" of them free on the first Sunday of the month.");
            }
            (_, 1 | 2) => {
                let site = self.any(SITES);
                let sight = self.any(SIGHTS);
                self.put(&format!(" Reviews on https://{site}/reviews/"));
                self.code(HEX, 6);
                self.put(&format!(" rate {sight}"));
                let rating = self.rng.random_range(30..50u32);
                self.put(&format!(" {}.{}", rating / 10, rating % 10));
                self.put(" out of 5 from");
                self.number(40, 9000);
                self.put(" visitors.");
            }
            (_, 3) => {
                self.put(" Two of the sources disagree on opening hours: one says");
                self.time();
                self.put(", the other");
                self.time();
                self.put(".");
            }
            (_, 4 | 5) => {
                self.put(" Across the sources a meal for two costs about");
                self.amount(20, 120);
                self.put(" and a museum ticket");
                self.amount(5, 30);
                self.put(".");
            }
            (_, 6) => {
                self.put(" The newest source was updated in");
                self.number(2023, 2025);
                self.put("; the oldest dates from");
                self.number(2016, 2021);
                self.put(" and should be read with care.");
            }
            (_, 7 | 8) => {
                let sight = self.any(SIGHTS);
                self.put(" Visitors spend");
                self.number(2, 6);
                self.put(&format!(" hours on average at {sight}, and queues are shortest before"));
                self.time();
                self.put(".");
            }
            (_, 9 | 10) => {
                let site = self.any(SITES);
                self.put(&format!(" A survey on https://{site}/data/"));
                self.code(HEX, 6);
                self.put(" found that");
                self.number(30, 90);
                self.put("% of travellers book their rooms more than");
                self.number(2, 8);
                self.put(" weeks ahead.");
            }
            (_, _) => {
                self.put(" Public transport reaches most sights: a single ride costs");
                self.amount(1, 5);
                self.put(" and a week pass");
                self.amount(15, 60);
                self.put(".");
            }
        }
    }

    fn plan_action(&mut self, domain: Domain) {
        let actions = match domain {
            Domain::Travel => TRAVEL_ACTIONS,
            Domain::Support => SUPPORT_ACTIONS,
            Domain::Code => CODE_ACTIONS,
            Domain::Research => RESEARCH_ACTIONS,
        };
        let action = self.any(actions);
        self.space(action);
    }

    /// `n` random characters of `alphabet`.
    fn code(&mut self, alphabet: &[u8], n: usize) {
        for _ in 0..n {
            let c = alphabet[self.rng.random_range(0..alphabet.len())];
            self.out.push(char::from(c));
        }
    }

    /// A sentence about the trace's trip, case, build or question.
    fn fact_sentence(&mut self, domain: Domain) {
        const DIGITS: &[u8] = b"0123456789";
        const HEX: &[u8] = b"0123456789abcdef";
        const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
        match (domain, self.rng.random_range(0..10u32)) {
            (Domain::Travel, 6 | 7) => {
                let (code, name) = self.any(AIRLINES);
                self.put(&format!(" {name} flight {code}"));
                self.number(100, 2999);
                self.put(" leaves");
                self.slot(Slot::Origin);
                self.put(" at");
                self.time();
                self.put(" on");
                self.slot(Slot::Start);
                self.put(" and lands at");
                self.slot(Slot::Code);
                self.put(" at");
                self.time();
                self.put(", fare");
                self.amount(90, 1900);
                self.put(", booking class ");
                self.code(UPPER, 1);
                self.put(".");
            }
            (Domain::Travel, 8) => {
                let brand = self.any(HOTEL_BRANDS);
                let kind = self.any(HOTEL_KINDS);
                self.put(&format!(" The {brand} {kind} in"));
                self.slot(Slot::City);
                self.put(" has");
                self.number(1, 14);
                self.put(" rooms left from");
                self.amount(60, 600);
                self.put(" per night, rated");
                let rating = self.rng.random_range(30..50u32);
                self.put(&format!(" {}.{}", rating / 10, rating % 10));
                self.put(" by");
                self.number(40, 9000);
                self.put(" guests.");
            }
            (Domain::Travel, _) if self.rng.random_bool(0.2) => {
                let (car, class) = self.any(CAR_MODELS);
                let vendor = self.any(CAR_VENDORS);
                self.put(&format!(" {vendor} offers a {car} ({class}) at"));
                self.slot(Slot::Code);
                self.put(" for");
                self.amount(25, 180);
                self.put(" per day with");
                self.number(100, 400);
                self.put(" free miles.");
            }
            (Domain::Support, 6 | 7) => {
                self.put(" The tracking number is 1Z");
                self.code(UPPER, 14);
                self.put("; its last scan was at");
                self.time();
                self.put(" in depot");
                self.number(100, 999);
                self.put(".");
            }
            (Domain::Support, 8) => {
                let tag = self.any(TICKET_TAGS);
                self.put(&format!(" Ticket tagged {tag}, priority P"));
                self.code(b"1234", 1);
                self.put(", payment ref ");
                self.code(UPPER, 10);
                self.put(", refund of");
                self.amount(5, 400);
                self.put(" pending since");
                self.time();
                self.put(".");
            }
            (Domain::Code, 5 | 6) => {
                self.put(" Commit ");
                self.code(HEX, 10);
                self.put(" changed");
                self.number(1, 40);
                self.put(" files (+");
                self.out.push_str(&self.rng.random_range(1..900u32).to_string());
                self.put(" -");
                self.out.push_str(&self.rng.random_range(1..600u32).to_string());
                self.put(") and CI run");
                self.number(10_000, 99_999);
                self.put(" failed after");
                self.number(40, 1900);
                self.put(" seconds.");
            }
            (Domain::Code, 7 | 8) => {
                let dir = self.any(CODE_DIRS);
                let file = self.any(CODE_FILES);
                let ident = self.any(IDENTIFIERS);
                self.put(&format!(" {dir}/{file}.rs: {ident} is "));
                self.code(DIGITS, 1);
                self.put(" where the test expects ");
                self.code(DIGITS, 2);
                self.put(" (seed 0x");
                self.code(HEX, 8);
                self.put(").");
            }
            (Domain::Research, 6 | 7) => {
                let site = self.any(SITES);
                self.put(&format!(" https://{site}/guides/"));
                self.code(HEX, 6);
                self.put(" (updated");
                self.number(2019, 2025);
                self.put(") rates the area");
                let rating = self.rng.random_range(30..50u32);
                self.put(&format!(" {}.{}", rating / 10, rating % 10));
                self.put(" from");
                self.number(40, 9000);
                self.put(" reviews.");
            }
            (Domain::Research, 8) => {
                self.put(" Museums in");
                self.slot(Slot::City);
                self.put(" open at");
                self.time();
                self.put(", entry");
                self.amount(5, 40);
                self.put(", and");
                self.number(10, 90);
                self.put("% of visitors come in");
                self.slot(Slot::Month);
                self.put(".");
            }
            (Domain::Travel, 0) => {
                self.slot(Slot::FirstName);
                self.put(" flies from");
                self.slot(Slot::Origin);
                self.put(" on");
                self.slot(Slot::Start);
                self.put(", so a departure after");
                self.time();
                self.put(" leaves time to get to the airport.");
            }
            (Domain::Travel, 1) => {
                self.put(" For");
                self.slot(Slot::Nights);
                self.put(" nights in");
                self.slot(Slot::City);
                self.put(" the hotels near");
                let sight = self.any(SIGHTS);
                self.space(sight);
                self.put(" have");
                self.number(1, 14);
                self.put(" rooms left for");
                self.slot(Slot::Guests);
                self.put(" guests.");
            }
            (Domain::Travel, 2) => {
                self.put(" The return on");
                self.slot(Slot::End);
                self.put(" lands in");
                self.slot(Slot::Origin);
                self.put(" at");
                self.time();
                self.put(" local time.");
            }
            (Domain::Travel, 3) => {
                self.put(" In");
                self.slot(Slot::Month);
                self.slot(Slot::City);
                self.put(" is");
                let cond = self.any(CONDITIONS);
                self.space(cond);
                self.put(" most days, with highs around");
                self.number(-5, 38);
                self.put("C.");
            }
            (Domain::Travel, 4) => {
                self.put(" The rental desk at");
                self.slot(Slot::Code);
                self.put(" opens at");
                self.time();
                self.put(" and the car is due back on");
                self.slot(Slot::End);
                self.put(".");
            }
            (Domain::Travel, _) => {
                self.slot(Slot::FirstName);
                self.put(" asked to stay under");
                self.slot(Slot::Budget);
                self.put(" per night, and");
                self.number(2, 9);
                self.put(" of the offers in");
                self.slot(Slot::City);
                self.put(" do.");
            }
            (Domain::Support, 0) => {
                self.put(" The parcel with");
                self.number(2, 6);
                self.put(" items, placed on");
                self.number(2, 28);
                self.put(" days ago,");
                let state = self.any(SHIPPING);
                self.space(state);
                self.put(" at");
                self.time();
                self.put(".");
            }
            (Domain::Support, 1) => {
                self.put(" Ticket");
                self.slot(Slot::Ticket);
                self.put(" has been waiting");
                self.number(2, 96);
                self.put(" hours for a reply from");
                let tag = self.any(TICKET_TAGS);
                self.space(tag);
                self.put(".");
            }
            (Domain::Support, 2) => {
                self.slot(Slot::FirstName);
                self.put(" was charged");
                self.amount(5, 400);
                self.put(" for order");
                self.slot(Slot::Order);
                self.put(" and asks whether the charge is correct.");
            }
            (Domain::Support, 3) => {
                self.put(" The carrier says the parcel for");
                self.slot(Slot::FirstName);
                self.put(" will arrive within");
                self.number(2, 7);
                self.put(" days of");
                self.slot(Slot::Start);
                self.put(".");
            }
            (Domain::Support, 4) => {
                self.put(" I have added a note to ticket");
                self.slot(Slot::Ticket);
                self.put(" so the next agent sees what");
                self.slot(Slot::FirstName);
                self.put(" already tried.");
            }
            (Domain::Support, _) => {
                self.put(" The account of");
                self.slot(Slot::FullName);
                self.put(" shows");
                self.number(2, 12);
                self.put(" orders this year; order");
                self.slot(Slot::Order);
                self.put(" is the only open one.");
            }
            (Domain::Code, 0) => {
                let dir = self.any(CODE_DIRS);
                let file = self.any(CODE_FILES);
                let ext = self.any(CODE_EXTS);
                let line = self.rng.random_range(12..900u32);
                let func = self.any(FUNCTIONS);
                let err = self.any(ERRORS);
                self.put(&format!(" In {dir}/{file}.{ext} line {line}, {func} fails with {err}."));
            }
            (Domain::Code, 1) => {
                let ident = self.any(IDENTIFIERS);
                let func = self.any(FUNCTIONS);
                self.put(&format!(" Pass {ident} to {func}() instead of cloning it"));
                self.put(", then");
                let verb = self.word(VERBS);
                self.space(verb);
                self.noun_phrase();
                self.put(".");
            }
            (Domain::Code, 2) => {
                self.put(" The first failing run was on");
                self.slot(Slot::Start);
                self.put(", after");
                self.number(2, 40);
                self.put(" commits;");
                self.slot(Slot::FullName);
                self.put(" is the reviewer.");
            }
            (Domain::Code, 3) => {
                let func = self.any(FUNCTIONS);
                self.put(&format!(" {func} takes"));
                self.number(3, 900);
                self.put(" ms on the slow path and");
                self.number(1, 40);
                self.put(" ms once the cache is warm.");
            }
            (Domain::Code, _) => {
                self.put(" Step");
                self.number(1, 9);
                self.put(":");
                self.plan_action(domain);
                self.put(".");
            }
            (Domain::Research, 0) => {
                let site = self.any(SITES);
                let file = self.any(CODE_FILES);
                self.put(&format!(" According to https://{site}/{file}"));
                self.number(1, 999);
                self.put(",");
                self.slot(Slot::City);
                self.put(" is busiest in");
                self.slot(Slot::Month);
                self.put(" and");
                let sight = self.any(SIGHTS);
                self.space(sight);
                self.put(" books out early.");
            }
            (Domain::Research, 1) => {
                self.put(" The guides agree that");
                let sight = self.any(SIGHTS);
                self.space(sight);
                self.put(" in");
                self.slot(Slot::City);
                self.put(" is worth");
                self.number(2, 5);
                self.put(" hours of a");
                self.slot(Slot::Nights);
                self.put("-night stay.");
            }
            (Domain::Research, 2) => {
                self.put(" A day pass for transport in");
                self.slot(Slot::City);
                self.put(" costs");
                self.amount(4, 30);
                self.put(" and covers the airport train from");
                self.slot(Slot::Code);
                self.put(".");
            }
            (Domain::Research, 3) => {
                self.put(" Source");
                self.number(1, 6);
                self.put(" dates from");
                self.number(2019, 2025);
                self.put(", so its advice for");
                self.slot(Slot::Month);
                self.put(" may be out of date.");
            }
            (Domain::Research, 4) => {
                self.put(" Before");
                self.slot(Slot::Start);
                self.slot(Slot::FirstName);
                self.put(" should check the entry rules and the travel advice for");
                self.slot(Slot::City);
                self.put(".");
            }
            (Domain::Research, _) => {
                self.put(" Most of what the sources say about");
                self.slot(Slot::City);
                self.put(" in");
                self.slot(Slot::Month);
                self.put(" agrees; the figures differ by");
                self.number(5, 30);
                self.put("% at most.");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_values_follow_the_markers_order_and_name_the_facts() {
        for (i, slot) in SLOT_ORDER.iter().enumerate() {
            assert_eq!(*slot as usize, i, "{slot:?}");
        }
        let facts = Facts::from_seed(3);
        let values = SlotValues::of(&facts);
        let (first, last) = facts.person();
        let text = |slot: Slot| values.get(slot as u8 + 1).to_owned();
        assert_eq!(text(Slot::FullName), format!("{first} {last}"));
        assert_eq!(text(Slot::City), facts.destination().1);
        assert_eq!(text(Slot::Start), facts.start());
        assert_eq!(text(Slot::End), facts.end());
        assert_eq!(text(Slot::Order), facts.order());
        assert_eq!(text(Slot::Ticket), facts.ticket());
        assert_eq!(text(Slot::Budget), (100 + 40 * facts.guests()).to_string());
    }
}
