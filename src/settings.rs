//! Settings a resumed run may be given again. A resumed run keeps its stored settings; a setting
//! given anew must agree with them, or the run would be half one thing and half another. The
//! overrides are generated from the config struct itself, so a field added to a config is in the
//! check without anyone remembering to add it.

/// A setting given again for a resumed run that differs from the stored one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The config field (`dim`, `min_count`), not a command-line flag: clients name their own.
    pub setting: &'static str,
    /// The stored value, as Rust prints it.
    pub stored: String,
    /// The value given now.
    pub given: String,
}

/// Settings given again, checked against the stored ones.
pub(crate) trait Overrides<C> {
    /// The first given value that differs from `stored`.
    fn check_against(&self, stored: &C) -> Result<(), Conflict>;
}

/// Declares a config struct and, beside it, its overrides: a struct of the same field names, each
/// an `Option`, with
/// - `FIELDS`, every field's name;
/// - `given(config, is_given)`, the overrides that take `config`'s value for each field that
///   `is_given(name)` says the caller set;
/// - `check(stored)`, the first override that disagrees with `stored`.
macro_rules! resumable {
    (
        $(#[$meta:meta])*
        pub struct $name:ident / $over:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name { $( $(#[$fmeta])* pub $field: $ty ),* }

        #[doc = concat!("The settings of a [`", stringify!($name),
            "`] given again for a resumed run: each `Some` must equal the stored value.")]
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $over {
            $( #[doc = concat!("`", stringify!($field), "`, if given.")] pub $field: Option<$ty> ),*
        }

        impl $over {
            /// Every field's name, in declaration order.
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// The values of `config` whose names `is_given` accepts.
            pub fn given(config: &$name, is_given: impl Fn(&str) -> bool) -> Self {
                $over { $( $field: is_given(stringify!($field)).then(|| config.$field.clone()) ),* }
            }

            /// The first given value that differs from `stored`.
            pub fn check(&self, stored: &$name) -> std::result::Result<(), $crate::settings::Conflict> {
                $(
                    if let Some(v) = &self.$field {
                        if *v != stored.$field {
                            return Err($crate::settings::Conflict {
                                setting: stringify!($field),
                                stored: format!("{:?}", stored.$field),
                                given: format!("{:?}", v),
                            });
                        }
                    }
                )*
                Ok(())
            }
        }

        impl $crate::settings::Overrides<$name> for $over {
            fn check_against(&self, stored: &$name) -> std::result::Result<(), $crate::settings::Conflict> {
                self.check(stored)
            }
        }
    };
}

pub(crate) use resumable;

#[cfg(test)]
mod tests {
    resumable! {
        #[derive(Clone, Debug, PartialEq)]
        pub struct Demo / DemoOverrides {
            pub a: u32,
            /// A documented field.
            pub b: bool,
        }
    }

    #[test]
    fn only_given_fields_are_checked() {
        let stored = Demo { a: 1, b: false };
        let typed = Demo { a: 2, b: false };
        assert_eq!(DemoOverrides::FIELDS, &["a", "b"]);
        assert!(DemoOverrides::given(&typed, |f| f == "b")
            .check(&stored)
            .is_ok());
        let c = DemoOverrides::given(&typed, |_| true)
            .check(&stored)
            .unwrap_err();
        assert_eq!(
            (c.setting, c.stored.as_str(), c.given.as_str()),
            ("a", "1", "2")
        );
    }
}
