//! A deserializer that reads a struct from a JSON object only.
//!
//! serde's derived `Deserialize` for a struct also accepts a sequence, read by position, so
//! `"accounts": [["1234567890123456", "default", true]]` would load as an account. A state
//! document names every field (`control-plane.md` §1), so such input is refused: [`Strict`]
//! wraps any deserializer and, at every depth, asks for a map wherever a struct is wanted
//! (`invalid type: sequence, expected struct Account`). Everything else is passed through
//! unchanged, hints included.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor,
};
use std::fmt;

/// JSON text as `T`, read through [`Strict`]; a refusal names the JSON path that is wrong, or
/// is prefixed with `whole` (`"body"`, `"invalid state document"`) when the whole text is.
pub fn from_json<T: DeserializeOwned>(json: &[u8], whole: &str) -> Result<T, String> {
    let deserializer = &mut serde_json::Deserializer::from_slice(json);
    let value = serde_path_to_error::deserialize(Strict(&mut *deserializer)).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            format!("{whole}: {inner}")
        } else {
            format!("{path}: {inner}")
        }
    })?;
    deserializer.end().map_err(|e| format!("{whole}: {e}"))?;
    Ok(value)
}

/// `D`, reading structs from maps only, at every depth.
pub struct Strict<D>(pub D);

/// Forwards `deserialize_*` methods to the inner deserializer, with the visitor wrapped.
macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
                self.0.$method($($arg,)* Wrapped(visitor))
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    forward! {
        deserialize_any(); deserialize_bool(); deserialize_i8(); deserialize_i16();
        deserialize_i32(); deserialize_i64(); deserialize_i128(); deserialize_u8();
        deserialize_u16(); deserialize_u32(); deserialize_u64(); deserialize_u128();
        deserialize_f32(); deserialize_f64(); deserialize_char(); deserialize_str();
        deserialize_string(); deserialize_bytes(); deserialize_byte_buf();
        deserialize_option(); deserialize_unit(); deserialize_seq(); deserialize_map();
        deserialize_identifier(); deserialize_ignored_any();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }

    /// The one change: a struct is read as a map, never as a sequence.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(Wrapped(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// A visitor whose nested values are read through [`Strict`].
struct Wrapped<V>(V);

/// Forwards `visit_*` methods of plain values to the inner visitor.
macro_rules! forward_visits {
    ($($method:ident($ty:ty);)*) => {
        $(
            fn $method<E: de::Error>(self, value: $ty) -> Result<V::Value, E> {
                self.0.$method(value)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrapped<V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(formatter)
    }

    forward_visits! {
        visit_bool(bool); visit_i8(i8); visit_i16(i16); visit_i32(i32); visit_i64(i64);
        visit_i128(i128); visit_u8(u8); visit_u16(u16); visit_u32(u32); visit_u64(u64);
        visit_u128(u128); visit_f32(f32); visit_f64(f64); visit_char(char);
        visit_str(&str); visit_borrowed_str(&'de str); visit_string(String);
        visit_bytes(&[u8]); visit_borrowed_bytes(&'de [u8]); visit_byte_buf(Vec<u8>);
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(Strict(deserializer))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<V::Value, D::Error> {
        self.0.visit_newtype_struct(Strict(deserializer))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(Wrapped(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(Wrapped(map))
    }

    /// The document's enums are names (`"Enabled"`): nothing nested to wrap.
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(data)
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Wrapped<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Wrapped(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Wrapped<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Wrapped(seed))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.0.next_value_seed(Wrapped(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for Wrapped<T> {
    type Value = T::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T::Value, D::Error> {
        self.0.deserialize(Strict(deserializer))
    }
}

#[cfg(test)]
mod tests {
    use super::Strict;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        name: String,
        #[serde(default)]
        tags: Vec<String>,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Id(String);

    #[derive(Debug, PartialEq, Deserialize)]
    struct Outer {
        id: Id,
        inner: Option<Inner>,
        list: Vec<Inner>,
        by_name: BTreeMap<String, Inner>,
        count: u64,
    }

    fn read(json: &str) -> Result<Outer, String> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        Outer::deserialize(Strict(&mut deserializer)).map_err(|e| e.to_string())
    }

    fn from_value(json: &str) -> Result<Outer, String> {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        Outer::deserialize(Strict(value)).map_err(|e| e.to_string())
    }

    const GOOD: &str = r#"{"id": "x", "inner": {"name": "a"}, "list": [{"name": "b", "tags": ["t"]}],
        "by_name": {"c": {"name": "c"}}, "count": 3}"#;

    #[test]
    fn objects_read_as_before() {
        let expected = Outer {
            id: Id("x".into()),
            inner: Some(Inner {
                name: "a".into(),
                tags: vec![],
            }),
            list: vec![Inner {
                name: "b".into(),
                tags: vec!["t".into()],
            }],
            by_name: BTreeMap::from([(
                "c".into(),
                Inner {
                    name: "c".into(),
                    tags: vec![],
                },
            )]),
            count: 3,
        };
        assert_eq!(read(GOOD).unwrap(), expected);
        assert_eq!(from_value(GOOD).unwrap(), expected);
        let plain: Outer = serde_json::from_str(GOOD).unwrap();
        assert_eq!(plain, expected);
    }

    /// A struct given as an array is refused at every depth, from text and from a `Value`,
    /// where plain serde reads it by position.
    #[test]
    fn structs_given_as_arrays_are_refused_at_every_depth() {
        for json in [
            r#"["x", null, [], {}, 3]"#,
            r#"{"id": "x", "inner": ["a"], "list": [], "by_name": {}, "count": 3}"#,
            r#"{"id": "x", "inner": null, "list": [["b"]], "by_name": {}, "count": 3}"#,
            r#"{"id": "x", "inner": null, "list": [], "by_name": {"c": ["c"]}, "count": 3}"#,
        ] {
            assert!(
                serde_json::from_str::<Outer>(json).is_ok(),
                "plain serde: {json}"
            );
            for (how, result) in [("text", read(json)), ("value", from_value(json))] {
                let error = result.expect_err(json);
                assert!(
                    error.contains("invalid type: sequence, expected struct"),
                    "{how} {json}: {error}"
                );
            }
        }
    }
}
