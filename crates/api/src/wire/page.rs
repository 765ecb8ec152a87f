//! The schema of a page envelope ([`Page`]): `{offset, limit, totalCount?, setId?, results, _links}`. The JSON is
//! written by `Page`'s own `Serialize`; this describes the same fields.

use std::borrow::Cow;

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};

use crate::edge::paging::{Link, Page};

impl<T: ToSchema> PartialSchema for Page<T> {
    fn schema() -> RefOr<Schema> {
        let int = || {
            ObjectBuilder::new().schema_type(Type::Integer).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        };
        let link = || RefOr::Ref(utoipa::openapi::Ref::from_schema_name(Link::name()));
        let links = ObjectBuilder::new()
            .property("first", link())
            .property("prev", link())
            .property("self", link())
            .property("next", link())
            .required("self");
        ObjectBuilder::new()
            .property("offset", int())
            .property("limit", int())
            .property("totalCount", int().description(Some("v6–v7 only")))
            .property(
                "setId",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from(Type::String))
                    .description(Some("v6+ cached result sets (a GUID)")),
            )
            .property(
                "results",
                ArrayBuilder::new().items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(T::name()))),
            )
            .property("_links", links)
            .required("offset")
            .required("limit")
            .required("results")
            .required("_links")
            .into()
    }
}

impl<T: ToSchema> ToSchema for Page<T> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("PageOf{}", T::name()))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
        schemas.push((Link::name().into_owned(), Link::schema()));
    }
}
