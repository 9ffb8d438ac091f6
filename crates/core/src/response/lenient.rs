//! Serde helpers that accept what real gateways send: numbers as strings and the reverse,
//! `null` for absent values, and the several shapes a list takes once XML has been through it.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A scalar as text: strings as they are, numbers and booleans in their JSON spelling.
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(StringVisitor)
}

/// Like [`opt_string`], with absence read as an empty string.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_string(d)?.unwrap_or_default())
}

struct StringVisitor;

impl<'de> Visitor<'de> for StringVisitor {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// [`string`] handed to `f` without keeping it: borrowed when the input allows, so that an
/// enumeration reads a known value without allocating.
pub(crate) fn map_str<'de, D: Deserializer<'de>, R>(d: D, f: fn(&str) -> R) -> Result<R, D::Error> {
    d.deserialize_any(MapStr(f))
}

struct MapStr<R>(fn(&str) -> R);

impl<'de, R> Visitor<'de> for MapStr<R> {
    type Value = R;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<R, E> {
        Ok((self.0)(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<R, E> {
        Ok((self.0)(&v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<R, E> {
        Ok((self.0)(&v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<R, E> {
        Ok((self.0)(&v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<R, E> {
        Ok((self.0)(&v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<R, E> {
        Ok((self.0)(""))
    }
    fn visit_none<E: de::Error>(self) -> Result<R, E> {
        Ok((self.0)(""))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<R, D::Error> {
        d.deserialize_any(self)
    }
}

/// A non-negative integer from a number or a string of digits, with `field` named in errors.
pub(crate) fn u64_named<'de, D: Deserializer<'de>>(
    d: D,
    field: &'static str,
) -> Result<Option<u64>, D::Error> {
    d.deserialize_any(U64Visitor(field))
}

struct U64Visitor(&'static str);

impl<'de> Visitor<'de> for U64Visitor {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: a non-negative integer", self.0)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u64::try_from(v).map(Some).map_err(|_| {
            E::custom(format_args!(
                "{}: expected a non-negative integer, found {v}",
                self.0
            ))
        })
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(E::custom(format_args!(
            "{}: expected an integer, found {v} (too large or not whole)",
            self.0
        )))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse().map(Some).map_err(|_| {
            let what = if t.bytes().all(|b| b.is_ascii_digit()) {
                "a number too large for 64 bits"
            } else {
                "text that is not a number"
            };
            E::custom(format_args!(
                "{}: expected a non-negative integer, found {what}: {:?}",
                self.0,
                clip(t)
            ))
        })
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Err(E::custom(format_args!(
            "{}: expected an integer, found {v}",
            self.0
        )))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// At most 64 characters of `s`, for quoting untrusted input in an error.
pub(crate) fn clip(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", s.get(..i).unwrap_or_default()),
        None => s.to_owned(),
    }
}

/// A list, in any of the shapes it arrives in:
///
/// - a JSON array;
/// - absent, `null`, or an empty string (an empty XML element);
/// - one object (an XML list of one element, or a JSON API that unwraps singletons);
/// - a wrapper object with one key holding the items, `{"BackupJob": [..]}` or
///   `{"BackupJob": {..}}` (JSON and XML APIs that name each item).
pub(crate) fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    // The name tells the XML reader that a list is welcome here; others read the value as is.
    d.deserialize_newtype_struct(
        super::xml_de::LIST,
        ListVisitor {
            inside: false,
            item: PhantomData,
        },
    )
}

struct ListVisitor<T> {
    /// Inside a wrapper already: an object is one item, not another wrapper.
    inside: bool,
    item: PhantomData<T>,
}

impl<'de, T: DeserializeOwned> Visitor<'de> for ListVisitor<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element_seed(OwnedSeed::<T>(PhantomData))? {
            out.push(item);
        }
        Ok(out)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if self.inside {
            return Ok(vec![T::deserialize(
                de::value::MapAccessDeserializer::new(map),
            )?]);
        }
        // A wrapper (`{"Backup": [...]}`, the JSON API's shape for every list) is read straight
        // through, without a `Value` between: its one key is not a field of the item. Anything
        // else (an unwrapped item, whose first key is one of its fields, or an item type
        // without named fields) is buffered and decided by `from_object`.
        let Some(key) = map.next_key::<String>()? else {
            return from_object(Value::Object(serde_json::Map::new())).map_err(de::Error::custom);
        };
        let fields = fields_of::<T>();
        if !fields.is_empty() && !fields.contains(&key.as_str()) {
            let items = map.next_value_seed(Items::<T>(PhantomData))?;
            // Keys after the items have nothing to say about them.
            while map
                .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                .is_some()
            {}
            return Ok(items);
        }
        let mut object = serde_json::Map::new();
        object.insert(key, map.next_value()?);
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            object.insert(k, v);
        }
        from_object(Value::Object(object)).map_err(de::Error::custom)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.trim().is_empty() {
            Ok(Vec::new())
        } else {
            Err(E::custom(format_args!(
                "expected a list, found text {:?}",
                clip(v)
            )))
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// The items inside a list's wrapper: an array of them, one item, or nothing (an empty string
/// or `null`, as an empty XML element becomes).
struct Items<T>(PhantomData<T>);

impl<'de, T: DeserializeOwned> de::DeserializeSeed<'de> for Items<T> {
    type Value = Vec<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_any(ListVisitor {
            inside: true,
            item: PhantomData,
        })
    }
}

/// The names of the fields `T` reads, when it is a struct: serde's derive hands them to
/// `deserialize_struct`, which this probe records before refusing to go on. Empty for any
/// other type.
fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Probe<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for Probe<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("only a struct's fields are asked for"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("only a struct's fields are asked for"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Probe(&mut fields));
    fields
}

/// Deserializes one owned item straight from the input, without a `Value` in between.
struct OwnedSeed<T>(PhantomData<T>);

impl<'de, T: DeserializeOwned> de::DeserializeSeed<'de> for OwnedSeed<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        // `DeserializeOwned` items deserialize from any lifetime; this bridges the bound.
        T::deserialize(d)
    }
}

fn from_object<T: DeserializeOwned>(value: Value) -> Result<Vec<T>, serde_json::Error> {
    if let Value::Object(map) = &value {
        if map.len() == 1 {
            if let Some(inner) = map.values().next() {
                match inner {
                    Value::Array(items) => {
                        return items.iter().map(T::deserialize).collect();
                    }
                    Value::Object(_) => return Ok(vec![T::deserialize(inner)?]),
                    Value::String(s) if s.trim().is_empty() => return Ok(Vec::new()),
                    _ => {}
                }
            }
        }
    }
    Ok(vec![T::deserialize(value)?])
}

#[cfg(test)]
mod tests {
    use crate::response::parse_success;
    use crate::{DescribeBackupsResponse, Format};

    fn ids(json: &str) -> Vec<u64> {
        let body = format!(r#"{{"RequestId":"R","Backups":{json}}}"#);
        parse_success::<DescribeBackupsResponse>(body.as_bytes(), Format::Json)
            .unwrap_or_else(|e| panic!("{json}: {e}"))
            .backups
            .iter()
            .map(|b| b.backup_id)
            .collect()
    }

    #[test]
    fn every_shape_of_a_list_reads_the_same_items() {
        // Wrapped (read straight through), bare, and one item unwrapped (its first key is one
        // of its fields, so it is read as the item itself).
        assert_eq!(ids(r#"{"Backup":[{"BackupId":1},{"BackupId":2}]}"#), [1, 2]);
        assert_eq!(ids(r#"{"Backup":{"BackupId":3}}"#), [3]);
        assert_eq!(ids(r#"[{"BackupId":4},{"BackupId":5}]"#), [4, 5]);
        assert_eq!(ids(r#"{"BackupId":6,"BackupStatus":"Success"}"#), [6]);
        assert_eq!(ids(r#"{"BackupStatus":"Success","BackupId":7}"#), [7]);
        // Nothing, in every form an empty list takes.
        for empty in [
            r#"{"Backup":[]}"#,
            r#"{"Backup":""}"#,
            r#"{"Backup":null}"#,
            "[]",
            r#""""#,
        ] {
            assert_eq!(ids(empty), Vec::<u64>::new(), "{empty}");
        }
        // What follows the items in a wrapper says nothing about them.
        assert_eq!(ids(r#"{"Backup":[{"BackupId":8}],"Note":"x"}"#), [8]);
    }

    #[test]
    fn a_bad_item_inside_a_wrapper_is_named() {
        let body = r#"{"RequestId":"R","Backups":{"Backup":[{"BackupId":"soon"}]}}"#;
        let err = parse_success::<DescribeBackupsResponse>(body.as_bytes(), Format::Json)
            .unwrap_err()
            .to_string();
        assert!(err.contains("BackupId"), "{err}");
    }
}
