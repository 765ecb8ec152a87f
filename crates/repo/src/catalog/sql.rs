//! Statements built at run time (optional filters): the binds in placeholder order, shared by the catalog's queries.

/// A bind value of a dynamically built statement.
pub(super) enum Arg {
    Text(String),
    Int(i64),
}

/// A statement with its binds; [`Sql::arg`] hands out the placeholders in order.
#[derive(Default)]
pub(super) struct Sql {
    args: Vec<Arg>,
}

impl Sql {
    pub(super) fn arg(&mut self, a: Arg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    pub(super) fn text(&mut self, s: impl Into<String>) -> String {
        self.arg(Arg::Text(s.into()))
    }

    pub(super) fn int(&mut self, n: i64) -> String {
        self.arg(Arg::Int(n))
    }

    pub(super) fn bind<'q>(
        &self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        for a in &self.args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(n) => q.bind(*n),
            };
        }
        q
    }
}
