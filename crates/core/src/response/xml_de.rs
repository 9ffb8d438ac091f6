//! Typed XML without a tree: a serde `Deserializer` over quick-xml's events, with names and
//! text borrowed from the body.
//!
//! It reads the same shape as [`super::xml::to_value`] followed by deserializing the `Value`:
//! an element with child elements is a map (text between them is layout), any other element is
//! its text, and an element repeated among its siblings is a list. Lists are where a stream
//! needs care, because whether `<Job>` is one item or the first of many is only known after it.
//! Fields read with `lenient::list` say they accept a list (through [`LIST`]); for them a short
//! look ahead, over the first item only in the common case, decides between the shapes the
//! lenient rule knows: repeated elements, one element, a wrapper around named items
//! (`<BackupJobs><BackupJob>…`), and an empty element.
//!
//! Most of an answer is fields of text, `<Name>text</Name>`. A field whose bytes are exactly
//! that, with a plain name, is read straight from the body past the reader ([`Xml::open_leaf`]),
//! which is then moved on: one look at the name, one search for `<` and one comparison, where
//! the reader would return three events. That makes typed reading about as fast as the bare
//! event loop, with the answer's strings and structs built on top. Anything else (attributes,
//! blanks in a tag, comments, CDATA, children) goes through the reader's events.
//!
//! This is the fast path for typed answers, and it only ever succeeds on a body the tree path
//! would read to the same value and accept. Whenever a body is anything else (a syntax error, an
//! API error's `Code`, no `RequestId`, an element repeated apart from its siblings, a field of
//! the wrong shape, a document too deep), it gives up with [`Bail`] and the caller takes the
//! tree path, which produces the error with its full message. Giving up therefore costs
//! nothing in strictness and carries no message: serde's error text is never formatted here.

use std::borrow::Cow;
use std::fmt;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::forward_to_deserialize_any;

use super::xml::MAX_DEPTH;

/// The name `lenient::list` passes to `deserialize_newtype_struct` to say that the field
/// accepts a list. Other deserializers treat it as any newtype and read the value as it is.
pub(crate) const LIST: &str = "$rkvstore::list";

/// The fast path gave up; the body must go the tree path.
#[derive(Debug)]
pub(crate) struct Bail;

impl fmt::Display for Bail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not read on the fast path")
    }
}

impl std::error::Error for Bail {}

impl de::Error for Bail {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Bail
    }
}

/// Reads `body` as `T` when it is a plain success answer: a root element other than `Error`,
/// no top-level `Code` or `Error`, a top-level `RequestId` with text, well-formed to the end.
pub(crate) fn from_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Bail> {
    let mut de = Xml::new(body)?;
    // Before the root: declarations, comments and blank text only.
    loop {
        match de.next()? {
            Event::Start(start) => {
                let (name, pos) = de.name_of(&start)?;
                if name == b"Error" {
                    return Err(Bail);
                }
                de.depth = 1;
                de.name = name;
                de.pos = pos;
                break;
            }
            Event::Text(text) => outside_root(&de.text_of(text.into_inner())?)?,
            Event::End(_) | Event::Eof => return Err(Bail),
            _ => {}
        }
    }
    let value = T::deserialize(Element { de: &mut de })?;
    if !de.request_id_ok || de.depth != 0 {
        return Err(Bail);
    }
    // After the root: the same, to the end.
    loop {
        match de.next()? {
            Event::Eof => return Ok(value),
            Event::Text(text) => outside_root(&de.text_of(text.into_inner())?)?,
            Event::Start(_) | Event::End(_) => return Err(Bail),
            _ => {}
        }
    }
}

struct Xml<'de> {
    reader: Reader<&'de [u8]>,
    body: &'de [u8],
    /// The body as text: valid UTF-8, or the fast path is not taken.
    text: &'de str,
    /// The body holds an `&`: text may need unescaping and must be checked.
    references: bool,
    /// An event read ahead.
    peeked: Option<Event<'de>>,
    /// The raw text of the open element, read whole by [`Xml::open_leaf`] and not yet taken.
    leaf: Option<&'de [u8]>,
    /// Elements open.
    depth: usize,
    /// The names seen in each map read as a generic map, back to back, to refuse a name that
    /// comes back later (the tree makes it a list; a generic map would keep only the last).
    seen: Vec<&'de [u8]>,
    /// The element whose value is read next, and the offset of its start tag.
    name: &'de [u8],
    pos: usize,
    /// The element being read is the root's `RequestId`.
    watch_request_id: bool,
    /// The root's `RequestId` was text that is not blank.
    request_id_ok: bool,
}

impl<'de> Xml<'de> {
    /// A reader of `body`, before its first event.
    fn new(body: &'de [u8]) -> Result<Self, Bail> {
        // The body is checked as UTF-8 once and searched for references once, so that each
        // text below is a slice of it with no check of its own (the per-text checks were a
        // fifth of the time), and text without a reference is never scanned for one.
        let text = std::str::from_utf8(body).map_err(|_| Bail)?;
        let mut reader = Reader::from_reader(body);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        // Closing tags are compared with their start tags as they are, without first trimming
        // white space after the name: a scan of every end tag that finds nothing in any real
        // answer. `</a >` therefore mismatches here and the body takes the tree path, which
        // accepts it.
        config.trim_markup_names_in_closing_tags = false;
        Ok(Xml {
            reader,
            body,
            text,
            references: has_reference(body),
            peeked: None,
            leaf: None,
            depth: 0,
            seen: Vec::new(),
            name: b"",
            pos: 0,
            watch_request_id: false,
            request_id_ok: false,
        })
    }

    #[inline]
    fn next(&mut self) -> Result<Event<'de>, Bail> {
        // An element read whole is taken before anything else is read; were it not, the events
        // would be read out of order, and the tree path decides instead.
        if self.leaf.is_some() {
            return Err(Bail);
        }
        if let Some(peeked) = self.peeked.take() {
            return Ok(peeked);
        }
        self.reader.read_event().map_err(|_| Bail)
    }

    /// Raw text as `str`: a slice of the already checked body when it is borrowed from it.
    #[inline(always)]
    fn str_of(&self, raw: Cow<'de, [u8]>) -> Result<Cow<'de, str>, Bail> {
        match raw {
            Cow::Borrowed(b) => self.slice(b).map(Cow::Borrowed),
            Cow::Owned(b) => String::from_utf8(b).map(Cow::Owned).map_err(|_| Bail),
        }
    }

    /// `b`, a slice of the body, as a slice of the body's text. The address tells where it
    /// lies; `get` checks that it does and that both ends fall between characters, so the
    /// bytes need no UTF-8 check of their own.
    #[inline(always)]
    fn slice(&self, b: &'de [u8]) -> Result<&'de str, Bail> {
        let start = (b.as_ptr() as usize).wrapping_sub(self.body.as_ptr() as usize);
        match self.text.get(start..start.wrapping_add(b.len())) {
            Some(s) => Ok(s),
            None => std::str::from_utf8(b).map_err(|_| Bail),
        }
    }

    /// The text of a text event, its references replaced: borrowed unless it holds one.
    #[inline(always)]
    fn text_of(&self, raw: Cow<'de, [u8]>) -> Result<Cow<'de, str>, Bail> {
        let text = self.str_of(raw)?;
        if self.references {
            unescape(text)
        } else {
            Ok(text)
        }
    }

    /// Text between elements is layout, dropped; it only has to be well formed, which a body
    /// already valid as UTF-8 is unless a reference in it is not.
    #[inline]
    fn layout(&self, raw: Cow<'de, [u8]>) -> Result<(), Bail> {
        if self.references {
            self.text_of(raw)?;
        }
        Ok(())
    }

    /// The name of a start tag, borrowed from the body, and the offset of its `<`. The name's
    /// address tells where it lies, which spares asking the reader for its position before
    /// every event; a name that does not lie in the body (never the case) gives up.
    #[inline]
    fn name_of(&self, start: &BytesStart<'_>) -> Result<(&'de [u8], usize), Bail> {
        let name = start.name().into_inner();
        let at = (name.as_ptr() as usize).wrapping_sub(self.body.as_ptr() as usize);
        let pos = at.checked_sub(1).ok_or(Bail)?;
        match self.body.get(pos..at.wrapping_add(name.len())) {
            Some([b'<', name @ ..]) => Ok((name, pos)),
            _ => Err(Bail),
        }
    }

    /// Takes a start tag: the element is open from now on.
    #[inline]
    fn open(&mut self, start: &BytesStart<'_>) -> Result<&'de [u8], Bail> {
        if self.depth >= MAX_DEPTH {
            return Err(Bail);
        }
        let (name, pos) = self.name_of(start)?;
        self.depth += 1;
        self.name = name;
        self.pos = pos;
        Ok(name)
    }

    /// Reads the open element's content up to its first child (left unread) or its end:
    /// `Some(text)` for an element without children, `None` for one with them.
    fn content(&mut self) -> Result<Option<Cow<'de, str>>, Bail> {
        if let Some(raw) = self.leaf.take() {
            let text = self.text_of(Cow::Borrowed(raw))?;
            return Ok(Some(self.close(text)));
        }
        if let Some(event) = self.peeked.take() {
            return self.content_from(None, event);
        }
        // A child's start tag next: the element is a map, and the child is left in the body,
        // where `open_leaf` may read it whole.
        if self.child_follows() {
            return Ok(None);
        }
        // Most elements are one text and their end tag, or only the end tag: read those two
        // events straight, and leave anything else to the general loop.
        // The events are matched as the reader returns them, without `next`'s copy: nothing is
        // ever read ahead when an element has just been opened.
        let text = match self.reader.read_event() {
            Ok(Event::Text(t)) => self.text_of(t.into_inner())?,
            Ok(Event::End(_)) => return Ok(Some(self.close(Cow::Borrowed("")))),
            Ok(event) => return self.content_from(None, event),
            Err(_) => return Err(Bail),
        };
        match self.reader.read_event() {
            Ok(Event::End(_)) => Ok(Some(self.close(text))),
            Ok(event) => self.content_from(Some(text), event),
            Err(_) => Err(Bail),
        }
    }

    /// The body as the reader will read it next, and that place's offset in the body.
    #[inline(always)]
    fn rest(&self) -> (&'de [u8], usize) {
        let rest: &'de [u8] = self.reader.get_ref();
        let at = (rest.as_ptr() as usize).wrapping_sub(self.body.as_ptr() as usize);
        (rest, at)
    }

    /// Whether the body goes on with a start tag inside the element the reader just opened
    /// (and nothing was read since): `<` and a name, which the reader always reads as a start
    /// tag. Not after `<name/>`, which the reader has opened and will close itself: the `/`
    /// before the `>` the reader stands after tells it.
    #[inline]
    fn child_follows(&self) -> bool {
        let (rest, at) = self.rest();
        matches!(self.body.get(at.wrapping_sub(2)..at), Some([before, b'>']) if *before != b'/')
            && matches!(rest, [b'<', first, ..] if NAME[usize::from(*first)])
    }

    /// Opens the element that comes next if the body goes on with it whole as
    /// `<name>text</name>`, name and text as plain as below, and moves the reader past it: its
    /// text is [`Self::leaf`] until read. Returns its name; `None` (nothing read) for anything
    /// else, which is left to the reader.
    ///
    /// This is where typed reading saves the most: the reader would return three events, look
    /// for the end of two tags, and push, pop and compare the name on its stack, for what is
    /// here one look at the name, one search for `<` and one comparison. The reader reads
    /// exactly these bytes the same way: a tag ends at the first `>` when there is no quote
    /// before it, `<` and a name byte start a start tag, a start tag without blanks is all
    /// name, its text runs to the first `<`, and `</name>` is the end tag of `name`. Only the
    /// position it reports for errors is not kept up to date, and it is never asked.
    #[inline]
    fn open_leaf(&mut self) -> Option<&'de [u8]> {
        if self.peeked.is_some() || self.leaf.is_some() || self.depth >= MAX_DEPTH {
            return None;
        }
        let (rest, at) = self.rest();
        // Only where the reader stands between tags, just after a `>`: after text it has
        // already taken the `<` that ends it and reads on inside a tag (`<<A>` is a start tag
        // named `<A` to it), and after `<name/>` its next event is that element's end.
        match self.body.get(at.checked_sub(2)?..at)? {
            [before, b'>'] if *before != b'/' => {}
            _ => return None,
        }
        let after = rest.strip_prefix(b"<")?;
        let len = after.iter().position(|&b| !NAME[usize::from(b)])?;
        let (name, after) = after.split_at(len);
        if name.is_empty() {
            return None;
        }
        let after = after.strip_prefix(b">")?;
        let (text, after) = after.split_at(find_lt(after)?);
        let after = after
            .strip_prefix(b"</")?
            .strip_prefix(name)?
            .strip_prefix(b">")?;
        *self.reader.get_mut() = after;
        self.depth += 1;
        self.name = name;
        self.pos = at;
        self.leaf = Some(text);
        Some(name)
    }

    /// [`Self::content`] from `event` on, with the text read before it.
    #[cold]
    fn content_from(
        &mut self,
        mut text: Option<Cow<'de, str>>,
        mut event: Event<'de>,
    ) -> Result<Option<Cow<'de, str>>, Bail> {
        loop {
            match event {
                Event::Text(t) => append(&mut text, self.text_of(t.into_inner())?),
                Event::CData(d) => append(&mut text, self.str_of(d.into_inner())?),
                Event::Start(_) => {
                    self.peeked = Some(event);
                    return Ok(None);
                }
                Event::End(_) => return Ok(Some(self.close(text.unwrap_or_default()))),
                Event::Eof => return Err(Bail),
                _ => {}
            }
            event = self.next()?;
        }
    }

    /// Takes the end tag of an element read as `text`.
    #[inline]
    fn close(&mut self, text: Cow<'de, str>) -> Cow<'de, str> {
        self.depth -= 1;
        if self.watch_request_id && self.depth == 1 {
            self.request_id_ok = !text.trim().is_empty();
        }
        text
    }

    /// Reads the open element to its end, checking what it holds as the tree path would.
    fn skip(&mut self) -> Result<(), Bail> {
        let level = self.depth;
        if let Some(raw) = self.leaf.take() {
            let text = self.text_of(Cow::Borrowed(raw))?;
            self.depth -= 1;
            if self.watch_request_id && level == 2 {
                self.request_id_ok = !text.trim().is_empty();
            }
            return Ok(());
        }
        let mut has_child = false;
        let mut has_text = false;
        while self.depth >= level {
            match self.next()? {
                Event::Start(start) => {
                    has_child |= self.depth == level;
                    self.open(&start)?;
                }
                Event::End(_) => self.depth -= 1,
                Event::Text(t) => {
                    let text = self.text_of(t.into_inner())?;
                    has_text |= self.depth == level && !text.trim().is_empty();
                }
                Event::CData(d) => {
                    let text = self.str_of(d.into_inner())?;
                    has_text |= self.depth == level && !text.trim().is_empty();
                }
                Event::Eof => return Err(Bail),
                _ => {}
            }
        }
        if self.watch_request_id && level == 2 {
            // Ignored or not, the root's RequestId must be what the tree sees: text.
            self.request_id_ok = has_text && !has_child;
        }
        Ok(())
    }

    /// The next sibling start tag if it is named `name` (taken), else `None` (left unread).
    /// Text and comments between siblings are layout and skipped.
    fn next_sibling_named(&mut self, name: &[u8]) -> Result<bool, Bail> {
        loop {
            let event = self.next()?;
            match event {
                Event::Text(t) => self.layout(t.into_inner())?,
                Event::CData(_) => {}
                Event::Start(ref start) if start.name().as_ref() == name => {
                    self.open(start)?;
                    return Ok(true);
                }
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => {}
                _ => {
                    self.peeked = Some(event);
                    return Ok(false);
                }
            }
        }
    }

    /// What the list whose first element starts at `pos` is, looking ahead with a second
    /// reader: over the first element only unless it holds a single kind of child.
    fn list_shape(&self, pos: usize, name: &[u8]) -> Result<ListShape, Bail> {
        let rest = self.body.get(pos..).ok_or(Bail)?;
        if two_kinds_of_child(rest, name) {
            return Ok(ListShape::Items);
        }
        let mut r = Reader::from_reader(rest);
        r.config_mut().expand_empty_elements = true;
        let mut depth = 0usize;
        let mut child: Option<Vec<u8>> = None;
        let mut children = 0usize;
        let mut nested = false;
        let mut blank = true;
        loop {
            match r.read_event().map_err(|_| Bail)? {
                Event::Start(start) => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(Bail);
                    }
                    if depth == 2 {
                        let n = start.name();
                        match &child {
                            None => child = Some(n.as_ref().to_vec()),
                            // Two kinds of child: the element is an item, whatever follows.
                            Some(c) if c.as_slice() != n.as_ref() => return Ok(ListShape::Items),
                            Some(_) => {}
                        }
                        children += 1;
                    } else if depth == 3 {
                        nested = true;
                    }
                }
                Event::End(_) => {
                    depth = depth.checked_sub(1).ok_or(Bail)?;
                    if depth == 0 {
                        break;
                    }
                }
                Event::Text(t) if depth == 2 && children == 1 => {
                    blank &= self.text_of(t.into_inner())?.trim().is_empty();
                }
                Event::CData(d) if depth == 2 && children == 1 => {
                    blank &= self.str_of(d.into_inner())?.trim().is_empty();
                }
                Event::Eof => return Err(Bail),
                _ => {}
            }
        }
        let repeated = loop {
            match r.read_event() {
                Ok(
                    Event::Text(_)
                    | Event::CData(_)
                    | Event::Comment(_)
                    | Event::PI(_)
                    | Event::Decl(_)
                    | Event::DocType(_),
                ) => {}
                Ok(Event::Start(start)) => break start.name().as_ref() == name,
                _ => break false,
            }
        };
        Ok(match child {
            _ if repeated => ListShape::Items,
            None => ListShape::Text,
            Some(_) if children > 1 || nested => ListShape::Wrapper,
            Some(_) if blank => ListShape::Empty,
            Some(_) => ListShape::Items,
        })
    }
}

/// Whether `rest`, which starts with the start tag of `name`, plainly begins with two children
/// of different names: `<name><A>text</A>…<B`. That makes the element an item whatever follows
/// (see [`Xml::list_shape`]), and it is how every list of records arrives, so the look ahead
/// with a second reader is spared. Only that exact form is recognised, from bytes that a
/// well-formed document can read in no other way; anything else (attributes, a comment, a
/// child with children) answers `false` and the reader decides. A body that is not well formed
/// is refused by the main reader later, whatever was decided here.
fn two_kinds_of_child(rest: &[u8], name: &[u8]) -> bool {
    // A name of plain characters only ([`NAME`]), so that the reader cannot see the tag any
    // other way (a quote, say, would start an attribute value that runs past the `>`),
    // followed by the end of the tag, `/` or white space.
    fn tag_name(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
        let end = bytes.iter().position(|&b| !NAME[usize::from(b)])?;
        let (name, rest) = bytes.split_at(end);
        let starts_well = name
            .first()
            .is_some_and(|&b| !b.is_ascii_digit() && !matches!(b, b'-' | b'.'));
        let ends_well = matches!(
            rest.first(),
            Some(b'>' | b'/' | b' ' | b'\t' | b'\r' | b'\n')
        );
        (starts_well && ends_well).then_some((name, rest))
    }
    let check = || -> Option<bool> {
        let rest = rest
            .strip_prefix(b"<")?
            .strip_prefix(name)?
            .strip_prefix(b">")?;
        let (first, rest) = tag_name(rest.strip_prefix(b"<")?)?;
        let rest = rest.strip_prefix(b">")?;
        let rest = rest.get(find_lt(rest)?..)?;
        let rest = rest
            .strip_prefix(b"</")?
            .strip_prefix(first)?
            .strip_prefix(b">")?;
        let rest = rest.get(find_lt(rest)? + 1..)?;
        let (second, _) = tag_name(rest)?;
        Some(second != first)
    };
    check().unwrap_or(false)
}

/// How a list arrived (see `lenient::list`).
enum ListShape {
    /// The element and its like-named siblings are the items.
    Items,
    /// Text: empty for no items.
    Text,
    /// The element wraps the items, its children all of one name.
    Wrapper,
    /// The element wraps one child without content: no items.
    Empty,
}

/// Whether `body` holds an `&`. The search runs over fixed-size blocks without an early exit,
/// which the compiler turns into vector instructions: a quarter of the cost of `contains`,
/// which stops at the first match but looks at a byte at a time.
fn has_reference(body: &[u8]) -> bool {
    let blocks = body.chunks_exact(64);
    let tail = blocks.remainder();
    blocks.fold(false, |found, block| {
        found | block.iter().fold(false, |f, &b| f | (b == b'&'))
    }) || tail.contains(&b'&')
}

/// The offset of the first `<` in `bytes`. Eight bytes are looked at at once: texts in answers
/// are short, and a byte at a time was a tenth of reading them.
#[inline]
fn find_lt(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const LT: u64 = ONES * b'<' as u64;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        // A byte of `x` is zero where the chunk holds `<`; the lowest byte flagged below is
        // the first such byte (a borrow can only flag bytes above a zero one).
        let x = u64::from_le_bytes(word) ^ LT;
        let found = x.wrapping_sub(ONES) & !x & HIGH;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'<')
        .map(|i| at + i)
}

/// The bytes [`Xml::open_leaf`] takes in a name: letters, digits, `_`, `-`, `.`, `:` and
/// everything beyond ASCII. Not blanks, quotes, `/`, `>`, `!` or `?`, after which the reader
/// would read the tag another way.
static NAME: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':') || c >= 0x80;
        b += 1;
    }
    table
};

/// Text outside the root element must be blank.
fn outside_root(text: &str) -> Result<(), Bail> {
    if text.trim().is_empty() {
        Ok(())
    } else {
        Err(Bail)
    }
}

/// `text` with its references replaced.
#[cold]
fn unescape(text: Cow<'_, str>) -> Result<Cow<'_, str>, Bail> {
    if !text.contains('&') {
        return Ok(text);
    }
    match text {
        Cow::Borrowed(s) => quick_xml::escape::unescape(s).map_err(|_| Bail),
        Cow::Owned(s) => quick_xml::escape::unescape(&s)
            .map(|u| Cow::Owned(u.into_owned()))
            .map_err(|_| Bail),
    }
}

#[inline(always)]
fn append<'de>(text: &mut Option<Cow<'de, str>>, more: Cow<'de, str>) {
    match text {
        None => *text = Some(more),
        Some(t) => t.to_mut().push_str(&more),
    }
}

/// The value of the open element whose start tag was just read.
struct Element<'a, 'de> {
    de: &'a mut Xml<'de>,
}

impl<'de> Element<'_, 'de> {
    fn any<V: Visitor<'de>>(self, visitor: V, generic: bool) -> Result<V::Value, Bail> {
        match self.de.content()? {
            Some(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Some(Cow::Owned(s)) => visitor.visit_string(s),
            None => {
                let start = self.de.seen.len();
                let value = visitor.visit_map(Children {
                    de: &mut *self.de,
                    generic,
                    start,
                });
                self.de.seen.truncate(start);
                value
            }
        }
    }
}

impl<'de> de::Deserializer<'de> for Element<'_, 'de> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        self.any(visitor, true)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Bail> {
        // A struct refuses a field that comes twice by itself.
        self.any(visitor, false)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Bail> {
        if name != LIST {
            return visitor.visit_newtype_struct(self);
        }
        let de = self.de;
        let (pos, element) = (de.pos, de.name);
        match de.list_shape(pos, element)? {
            ListShape::Items => visitor.visit_seq(Items {
                hint: items_hint(de.body.get(pos..).unwrap_or_default(), element),
                de,
                name: element,
                first: true,
            }),
            ListShape::Text => Element { de }.any(visitor, true),
            ListShape::Wrapper => visitor.visit_seq(Wrapped { de, done: false }),
            ListShape::Empty => {
                de.skip()?;
                visitor.visit_seq(
                    de::value::SeqDeserializer::<std::iter::Empty<()>, Bail>::new(
                        std::iter::empty(),
                    ),
                )
            }
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Bail> {
        match self.de.content()? {
            Some(text) => visitor.visit_enum(text.into_owned().into_deserializer()),
            None => Err(Bail),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Bail> {
        let name = self.de.name;
        self.de.skip()?;
        // Siblings of the same name go with it, so that an unknown list is skipped whole.
        while self.de.next_sibling_named(name)? {
            if self.de.watch_request_id {
                // Repeated, the root's RequestId is a list to the tree.
                return Err(Bail);
            }
            self.de.skip()?;
        }
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier
    }
}

/// The children of an open element, as a map from their names to their values.
struct Children<'a, 'de> {
    de: &'a mut Xml<'de>,
    /// Read by a generic map (not a struct): a name seen before is refused.
    generic: bool,
    /// Where this map's names start in `Xml::seen`.
    start: usize,
}

/// A generic map with more names than this is left to the tree path, which groups them in a
/// map; the check below is linear in the names seen so far.
const MAX_GENERIC_NAMES: usize = 128;

impl<'de> MapAccess<'de> for Children<'_, 'de> {
    type Error = Bail;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Bail> {
        let name = loop {
            if let Some(name) = self.de.open_leaf() {
                break name;
            }
            match self.de.next()? {
                Event::Start(start) => break self.de.open(&start)?,
                Event::End(_) => {
                    self.de.depth -= 1;
                    self.de.watch_request_id = false;
                    return Ok(None);
                }
                Event::Text(t) => self.de.layout(t.into_inner())?,
                Event::Eof => return Err(Bail),
                _ => {}
            }
        };
        let top = self.de.depth == 2;
        self.de.watch_request_id = top && name == b"RequestId";
        if top && (name == b"Code" || name == b"Error") {
            // An API error, or something shaped like one: the tree path decides.
            return Err(Bail);
        }
        if !self.generic {
            // A struct's field names match as bytes, with no UTF-8 check.
            return seed
                .deserialize(de::value::BorrowedBytesDeserializer::new(name))
                .map(Some);
        }
        let seen = self.de.seen.get(self.start..).unwrap_or_default();
        if seen.len() >= MAX_GENERIC_NAMES || seen.contains(&name) {
            return Err(Bail);
        }
        self.de.seen.push(name);
        let key = std::str::from_utf8(name).map_err(|_| Bail)?;
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Bail> {
        seed.deserialize(Element { de: &mut *self.de })
    }
}

/// A list given as the element and its like-named siblings.
struct Items<'a, 'de> {
    de: &'a mut Xml<'de>,
    name: &'de [u8],
    /// The first item's start tag is already read.
    first: bool,
    /// How many items there may be (see [`items_hint`]).
    hint: Option<usize>,
}

/// Guesses how many items a list of like-named elements has, from the length of the first
/// (up to its first closing tag) and the bytes left in the body, so that the list's `Vec` is
/// allocated once instead of growing by doubling, which moved every item several times and was
/// a tenth of the time at 1,000 items. The guess is high when other content follows the list;
/// serde caps what it allocates from a hint (1 MiB), and the cap below keeps it smaller still.
fn items_hint(rest: &[u8], name: &[u8]) -> Option<usize> {
    const MAX_HINT: usize = 4096;
    // A short body holds a few items at most; finding the first one's end would cost more
    // than the growth it saves.
    if rest.len() < 4096 {
        return None;
    }
    let mut from = 0;
    let len = loop {
        let at = from + find_lt(rest.get(from..)?)?;
        let after = rest.get(at + 1..)?;
        if let Some(tail) = after.strip_prefix(b"/") {
            if tail.starts_with(name) {
                break at + 3 + name.len();
            }
        }
        from = at + 1;
    };
    Some((rest.len() / len).min(MAX_HINT))
}

impl<'de> SeqAccess<'de> for Items<'_, 'de> {
    type Error = Bail;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Bail> {
        if !std::mem::take(&mut self.first) && !self.de.next_sibling_named(self.name)? {
            return Ok(None);
        }
        self.de.watch_request_id = false;
        seed.deserialize(Element { de: &mut *self.de }).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        self.hint
    }
}

/// A list given as the children of a wrapper element, all of one name.
struct Wrapped<'a, 'de> {
    de: &'a mut Xml<'de>,
    done: bool,
}

impl<'de> SeqAccess<'de> for Wrapped<'_, 'de> {
    type Error = Bail;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Bail> {
        if self.done {
            return Ok(None);
        }
        loop {
            match self.de.next()? {
                Event::Start(start) => {
                    self.de.open(&start)?;
                    self.de.watch_request_id = false;
                    return seed.deserialize(Element { de: &mut *self.de }).map(Some);
                }
                Event::End(_) => {
                    self.de.depth -= 1;
                    self.done = true;
                    return Ok(None);
                }
                Event::Text(t) => self.de.layout(t.into_inner())?,
                Event::Eof => return Err(Bail),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::response::{xml_paths_agree, Document};
    use crate::{
        DescribeBackupTasksResponse, DescribeBackupsResponse, DescribeInstanceAttributeResponse,
        DescribeInstancesResponse, DescribeRegionsResponse,
    };

    fn fast<T: crate::Shape + PartialEq + std::fmt::Debug>(body: &str) -> bool {
        xml_paths_agree::<T>(body.as_bytes())
    }

    const JOB: &str = "<JobMode>Manual</JobMode><BackupJobID>7</BackupJobID>\
                       <Process>1</Process>";

    #[test]
    fn plain_answers_take_the_event_path() {
        type Tasks = DescribeBackupTasksResponse;
        let r = |inner: &str| format!("<R><RequestId>Q</RequestId>{inner}</R>");
        // Repeated items, one item, a wrapper of many, of one, empty lists in every form.
        for inner in [
            format!("<BackupJobs>{JOB}</BackupJobs><BackupJobs>{JOB}</BackupJobs>"),
            format!("<BackupJobs>{JOB}</BackupJobs>"),
            format!(
                "<BackupJobs><BackupJob>{JOB}</BackupJob><BackupJob>{JOB}</BackupJob></BackupJobs>"
            ),
            format!("<BackupJobs><BackupJob>{JOB}</BackupJob></BackupJobs>"),
            "<BackupJobs/>".into(),
            "<BackupJobs>  </BackupJobs>".into(),
            "<BackupJobs><BackupJob/></BackupJobs>".into(),
            "<BackupJobs><BackupJob> </BackupJob></BackupJobs>".into(),
            String::new(),
            format!("<InstanceId>a &amp; <![CDATA[b]]></InstanceId><BackupJobs>{JOB}</BackupJobs>"),
            format!(
                "\n  <BackupJobs>\n {JOB}\n </BackupJobs>\n <Unknown><x>1</x></Unknown><Unknown/>"
            ),
        ] {
            assert!(fast::<Tasks>(&r(&inner)), "{inner}");
        }
        assert!(fast::<Tasks>(&format!(
            "<?xml version='1.0'?>\n<!-- c --><R>{JOB}<RequestId>Q</RequestId></R>\n"
        )));
        for body in [
            include_str!("../../tests/fixtures/describe-backup-tasks.xml"),
            include_str!("../../tests/fixtures/describe-backups.xml"),
            include_str!("../../tests/fixtures/describe-instance-attribute.xml"),
        ] {
            assert!(fast::<Tasks>(body) || !body.contains("BackupJobs"));
            fast::<DescribeBackupsResponse>(body);
            fast::<DescribeInstanceAttributeResponse>(body);
            fast::<DescribeInstancesResponse>(body);
            fast::<Document>(body);
        }
        assert!(fast::<DescribeBackupsResponse>(include_str!(
            "../../tests/fixtures/describe-backups.xml"
        )));
        assert!(fast::<DescribeInstanceAttributeResponse>(include_str!(
            "../../tests/fixtures/describe-instance-attribute.xml"
        )));
    }

    #[test]
    fn the_first_lt_is_found_wherever_it_is() {
        // Bytes next to `<` in value, a high bit set, and zero: the cases a word-wide search
        // gets wrong when its arithmetic is off.
        let fillers = [b'a', b';', b'=', 0xBC, 0x00, 0xFF, b'<' ^ 0x80];
        let mut state: u32 = 0x9E37_79B9;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as usize
        };
        for len in 0..40 {
            for _ in 0..200 {
                let mut bytes: Vec<u8> =
                    (0..len).map(|_| fillers[next() % fillers.len()]).collect();
                for _ in 0..next() % 3 {
                    if len > 0 {
                        let i = next() % len;
                        bytes[i] = b'<';
                    }
                }
                let expected = bytes.iter().position(|&b| b == b'<');
                assert_eq!(super::find_lt(&bytes), expected, "{bytes:?}");
            }
        }
    }

    /// A model without a `RequestId` field skips the root's; it must still be text.
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct WithoutRequestId {
        #[serde(rename = "InstanceId")]
        instance_id: Option<String>,
    }

    impl crate::Shape for WithoutRequestId {
        fn lacks(&self) -> Option<&'static str> {
            None
        }
    }

    #[test]
    fn a_skipped_request_id_must_still_be_text() {
        type T = WithoutRequestId;
        assert!(fast::<T>(
            "<R><RequestId>Q</RequestId><InstanceId>a</InstanceId></R>"
        ));
        assert!(fast::<T>(
            "<R><InstanceId>a</InstanceId><RequestId>Q</RequestId></R>"
        ));
        for body in [
            "<R><RequestId> </RequestId><InstanceId>a</InstanceId></R>",
            "<R><RequestId></RequestId><InstanceId>a</InstanceId></R>",
            "<R><RequestId/><InstanceId>a</InstanceId></R>",
            "<R><RequestId><a>1</a></RequestId><InstanceId>a</InstanceId></R>",
            "<R><InstanceId>a</InstanceId></R>",
        ] {
            assert!(!fast::<T>(body), "{body}");
        }
    }

    /// End tags are checked here, not by the reader, and text is read past without it: every
    /// end tag that does not close its element must still be refused, wherever it is.
    #[test]
    fn every_end_tag_must_close_its_element() {
        type Tasks = DescribeBackupTasksResponse;
        let r = |inner: &str| format!("<R><RequestId>Q</RequestId>{inner}</R>");
        for body in [
            "<R><RequestId>Q</RequestIdX></R>".to_owned(),
            "<R><RequestId>Q</Requestid></R>".into(),
            "<R><RequestId>Q</RequestId></Q>".into(),
            "<R><RequestId>Q</RequestId><InstanceId>a<!--c--></InstanceIdd></R>".into(),
            "<R><RequestId>Q</RequestId><InstanceId/></Instance></R>".into(),
            r(&format!("<BackupJobs>{JOB}</BackupJob>")),
            r(&format!(
                "<BackupJobs><BackupJob>{JOB}</BackupJob></BackupJobz>"
            )),
            r(&format!(
                "<BackupJobs><BackupJob>{JOB}</BackupJobs></BackupJob>"
            )),
            r("<BackupJobs><JobMode>Manual</JobMod></BackupJobs>"),
            r("<Unknown><x>1</y></Unknown>"),
            r("<Unknown><x>1</x></Unknow>"),
            r("<Unknown/><Unknown><x/></Unknown ></Unknown>"),
            r("<Unknown/><Unknown><x/></Unknown></Unknown>"),
        ] {
            assert!(!fast::<Tasks>(&body), "{body}");
            assert!(!fast::<Document>(&body), "{body}");
            assert!(
                crate::response::xml::to_value(body.as_bytes()).is_err(),
                "{body}"
            );
        }
        // After text the reader has taken the `<` that ends it: `<<A>` is one start tag to it,
        // named `<A`, never an element `A` read whole.
        for body in [
            "<R><RequestId>Q</RequestId> <<A>x</A>/R>",
            "<R><RequestId>Q</RequestId>\n<<A>x</A>!----></R>",
            "<R><RequestId>Q</RequestId> <<A>x</A>![CDATA[y]]></R>",
            "<R><RequestId>Q</RequestId> <<InstanceId>x</InstanceId>/R>",
        ] {
            assert!(!fast::<Tasks>(body), "{body}");
            assert!(!fast::<Document>(body), "{body}");
            assert!(
                crate::response::xml::to_value(body.as_bytes()).is_err(),
                "{body}"
            );
        }
        // A blank after the name is well formed, and left to the tree path, which allows it.
        let spaced = "<R><RequestId>Q</RequestId><InstanceId>a</InstanceId ></R>";
        assert!(!fast::<Tasks>(spaced));
        assert!(crate::response::xml::to_value(spaced.as_bytes()).is_ok());
        // Elements written empty, or with attributes, or with a name holding a quote, are read
        // by the reader, and alike on both paths.
        for inner in [
            "<InstanceId/>",
            "<InstanceId a=\"x/\">v</InstanceId>",
            "<InstanceId a=\"1\"/>",
            "<InstanceId a='>'>v</InstanceId>",
            "<A\"q>v</A\"q>",
            "<A'q>v</A'q>",
            // The reader takes the quote in the end tag for the start of a value.
            "<A\"x y\">v</A\"x>w\">",
            "<A'x y'>v</A'x>w'>",
        ] {
            fast::<Tasks>(&r(inner));
            fast::<Document>(&r(inner));
        }
        assert!(fast::<Tasks>(&r("<InstanceId/>")));
        assert!(fast::<Tasks>(&r("<InstanceId a=\"x/\">v</InstanceId>")));
    }

    #[test]
    fn anything_else_takes_the_tree_path() {
        type Tasks = DescribeBackupTasksResponse;
        for body in [
            "<R><Code>Throttling</Code><RequestId>Q</RequestId></R>".to_owned(),
            "<R><Error><Code>X</Code></Error><RequestId>Q</RequestId></R>".into(),
            "<Error><RequestId>Q</RequestId></Error>".into(),
            "<R><RequestId> </RequestId></R>".into(),
            "<R><RequestId><a>1</a></RequestId></R>".into(),
            "<R><RequestId>Q</RequestId><RequestId>Q</RequestId></R>".into(),
            format!("<R><RequestId>Q</RequestId><BackupJobs>{JOB}</BackupJobs><X/><BackupJobs>{JOB}</BackupJobs></R>"),
            "<R><RequestId>Q</RequestId></R><R/>".into(),
            "<R><RequestId>Q</RequestId></R>tail".into(),
            "<R><RequestId>Q</RequestId>".into(),
            "<R><RequestId>Q &bogus;</RequestId></R>".into(),
            "<R><RequestId>Q</RequestId><X>&bogus;</X></R>".into(),
            format!("<R><RequestId>Q</RequestId>{}</R>", "<a>".repeat(70)),
            "<R><RequestId>Q</RequestId><BackupJobs>text</BackupJobs></R>".into(),
        ] {
            assert!(!fast::<Tasks>(&body), "{body}");
        }
        // Generic documents with a name repeated apart: the tree groups it.
        assert!(!fast::<Document>(
            "<R><RequestId>Q</RequestId><A>1</A><B/><A>2</A></R>"
        ));
        assert!(fast::<Document>(
            "<R><RequestId>Q</RequestId><A>1</A><B/></R>"
        ));
        assert!(fast::<DescribeRegionsResponse>(
            "<R><RequestId>Q</RequestId><RegionIds><KVStoreRegion><RegionId>a</RegionId>\
             </KVStoreRegion></RegionIds></R>"
        ));
    }

    #[test]
    fn the_quick_look_at_a_list_decides_as_the_reader_would() {
        use super::{two_kinds_of_child, ListShape};
        // Recognised: two children of different names, whatever follows.
        for body in [
            "<L><A>1</A><B>2</B></L>",
            "<L><A></A><B/></L>",
            "<L><A>x > y</A>\n  <B attr='1'>2</B></L>",
        ] {
            assert!(two_kinds_of_child(body.as_bytes(), b"L"), "{body}");
        }
        // Anything else is left to the reader, which must then decide the same for the bodies
        // above and differently or alike for these.
        for body in [
            "<L><A>1</A><A>2</A></L>",
            "<L a='1'><A>1</A><B>2</B></L>",
            "<L><A><C/></A><B>2</B></L>",
            "<L><!-- c --><A>1</A><B>2</B></L>",
            "<L><A>1</A><!-- c --><B>2</B></L>",
            "<L><A >1</A><B>2</B></L>",
            "<L><A>1</A><B\"x>2</B></L>",
            "<L><A\"x>1</A\"x><B>2</B></L>",
            "<L><A>1</A><1B>2</1B></L>",
            "<L><A>1</A></L>",
            "<L>text</L>",
            "<L><A>1</A><B",
            "<LL><A>1</A><B>2</B></LL>",
            "",
        ] {
            assert!(!two_kinds_of_child(body.as_bytes(), b"L"), "{body}");
        }
        let body = b"<R><L><A>1</A><B>2</B></L></R>";
        let de = super::Xml::new(body).unwrap();
        assert!(matches!(de.list_shape(3, b"L"), Ok(ListShape::Items)));
    }

    #[test]
    fn references_end_tags_and_encodings_keep_both_paths_in_step() {
        type Tasks = DescribeBackupTasksResponse;
        let r = |inner: &str| format!("<R><RequestId>Q</RequestId>{inner}</R>");
        // A reference anywhere makes every text checked and unescaped.
        assert!(fast::<Tasks>(&r(
            "<InstanceId>a&lt;b&#65;</InstanceId><BackupJobs><JobMode>M&amp;</JobMode>\
             <BackupJobID>7</BackupJobID></BackupJobs>"
        )));
        let parsed: Tasks = crate::response::parse_success(
            r("<InstanceId>a&lt;b&#65;</InstanceId>").as_bytes(),
            crate::Format::Xml,
        )
        .unwrap();
        assert_eq!(parsed.instance_id, "a<bA");
        // A bad reference in layout text, a space before `>` in an end tag, and bytes that are
        // not UTF-8 (even in a comment) are all left to the tree path.
        for body in [
            r("<InstanceId>a</InstanceId>\n&bogus;\n"),
            r("<InstanceId>a</InstanceId >"),
        ] {
            assert!(!fast::<Tasks>(&body), "{body}");
        }
        let spaced: Tasks = crate::response::parse_success(
            r("<InstanceId>a</InstanceId >").as_bytes(),
            crate::Format::Xml,
        )
        .unwrap();
        assert_eq!(spaced.instance_id, "a");
        let mut latin1 = r("<!-- caf\u{e9} -->").into_bytes();
        let at = latin1
            .windows(2)
            .position(|w| w == "\u{e9}".as_bytes())
            .unwrap();
        latin1.splice(at..at + 2, [0xe9]);
        assert!(!crate::response::xml_paths_agree::<Tasks>(&latin1));
    }

    #[test]
    fn a_long_list_is_read_whole_with_its_size_guessed() {
        use super::items_hint;
        let item = format!("<BackupJobs>{JOB}</BackupJobs>");
        let body = format!("<R><RequestId>Q</RequestId>{}</R>", item.repeat(300));
        assert!(fast::<DescribeBackupTasksResponse>(&body));
        let parsed: DescribeBackupTasksResponse =
            crate::response::parse_success(body.as_bytes(), crate::Format::Xml).unwrap();
        assert_eq!(parsed.backup_jobs.len(), 300);
        let at = body.find("<BackupJobs>").unwrap();
        // The guess counts the bytes left (including the closing root tag) by the first item.
        assert_eq!(items_hint(&body.as_bytes()[at..], b"BackupJobs"), Some(300));
        // Short bodies get no guess; a guess is capped.
        assert_eq!(items_hint(item.as_bytes(), b"BackupJobs"), None);
        let many = "<A>1</A>".repeat(10_000);
        assert_eq!(items_hint(many.as_bytes(), b"A"), Some(4096));
    }

    /// Documents put together at random from the pieces the shortcuts above look at: whenever
    /// the event path reads one, the tree path must read it to the same value.
    #[test]
    fn random_documents_read_alike_on_both_paths() {
        const PIECES: [&str; 31] = [
            "<BackupJobs>",
            "</BackupJobs>",
            "<BackupJob>",
            "</BackupJob>",
            "<JobMode>",
            "</JobMode>",
            "<BackupJobID>",
            "</BackupJobID>",
            "<Process>",
            "</Process>",
            "7",
            "Manual",
            " ",
            "\n",
            "<!--c-->",
            "<![CDATA[x]]>",
            "&amp;",
            "<X/>",
            "<A\"q>",
            "</A\"q>",
            "<BackupJobs/>",
            "<JobMode >",
            "</JobMode >",
            "\"",
            "<Process/>",
            "<A'q>",
            "</A'q>",
            "<R>",
            "</R>",
            "<",
            "<JobMode>Manual</JobMode>",
        ];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut read = 0;
        for _ in 0..20_000 {
            let mut body = String::from("<R><RequestId>Q</RequestId>");
            for _ in 0..next() % 24 {
                body.push_str(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            body.push_str("</R>");
            if fast::<DescribeBackupTasksResponse>(&body) {
                read += 1;
            }
            fast::<Document>(&body);
        }
        // The pieces make well-formed answers often enough for the comparison to mean something.
        assert!(
            read > 200,
            "only {read} documents were read on the event path"
        );
    }
}
