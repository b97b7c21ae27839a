//! OpenAPI links: which answer's id feeds which next operation, so a client (and
//! schemathesis's stateful phase) can follow create -> read -> update -> delete through accounts,
//! records, visit notes, access requests, grants and emergency accesses without guessing ids.
//!
//! One table, `chains`, applied by [`Links`]; a link naming an operation or status that does
//! not exist fails the spec's unit test rather than producing a dangling link.

use std::collections::BTreeMap;

use utoipa::Modify;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::{OpenApi, RefOr};

/// Where a linked operation's input comes from: a runtime expression per path or query
/// parameter.
struct Chain {
    /// Operation whose answer holds the value.
    from: &'static str,
    /// Status of that answer.
    status: &'static str,
    /// Operation the value feeds.
    to: &'static str,
    /// Parameter name -> runtime expression.
    parameters: Vec<(&'static str, &'static str)>,
}

/// The table under construction.
#[derive(Default)]
struct Table(Vec<Chain>);

impl Table {
    /// `from` at `status` feeds `expression` to each of `to` as the path parameter `id`.
    fn by_id(
        mut self,
        from: &'static str,
        status: &'static str,
        expression: &'static str,
        to: &[&'static str],
    ) -> Self {
        for &to in to {
            self.0.push(Chain {
                from,
                status,
                to,
                parameters: vec![("id", expression)],
            });
        }
        self
    }

    /// One link with its own parameters.
    fn chain(
        mut self,
        from: &'static str,
        status: &'static str,
        to: &'static str,
        parameters: &[(&'static str, &'static str)],
    ) -> Self {
        self.0.push(Chain {
            from,
            status,
            to,
            parameters: parameters.to_vec(),
        });
        self
    }
}

/// Every link of the spec.
#[expect(
    clippy::too_many_lines,
    reason = "one table, one line per chain (rustfmt spreads the lists out)"
)]
fn chains() -> Vec<Chain> {
    Table::default()
        // Accounts (admin): a new doctor or patient is read, changed, deactivated, reactivated,
        // reset and unlocked; a patient is put in a doctor's care and taken out of it again.
        .by_id(
            "create_doctor",
            "201",
            "$response.body#/doctor/id",
            &[
                "get_doctor",
                "update_doctor",
                "deactivate_user",
                "reactivate_user",
                "reset_user_password",
                "unlock_user",
                "reset_user_mfa",
            ],
        )
        .by_id(
            "list_doctors",
            "200",
            "$response.body#/items/0/id",
            &["get_doctor", "update_doctor"],
        )
        .by_id(
            "get_doctor",
            "200",
            "$response.body#/id",
            &["update_doctor", "deactivate_user"],
        )
        .by_id(
            "update_doctor",
            "200",
            "$response.body#/id",
            &["get_doctor"],
        )
        .by_id(
            "create_patient",
            "201",
            "$response.body#/patient/id",
            &[
                "get_patient",
                "update_patient",
                "deactivate_user",
                "reactivate_user",
                "reset_user_password",
                "unlock_user",
            ],
        )
        .by_id(
            "list_patients",
            "200",
            "$response.body#/items/0/id",
            &["get_patient", "update_patient"],
        )
        .by_id(
            "get_patient",
            "200",
            "$response.body#/id",
            &["update_patient"],
        )
        .by_id(
            "update_patient",
            "200",
            "$response.body#/id",
            &["get_patient"],
        )
        .by_id(
            "deactivate_user",
            "200",
            "$response.body#/id",
            &["reactivate_user"],
        )
        .by_id(
            "reset_user_password",
            "200",
            "$request.path.id",
            &["unlock_user"],
        )
        .chain(
            "create_patient",
            "201",
            "assign_doctor",
            &[("id", "$response.body#/patient/id")],
        )
        .chain(
            "assign_doctor",
            "204",
            "unassign_doctor",
            &[
                ("id", "$request.path.id"),
                ("doctor_id", "$request.path.doctor_id"),
            ],
        )
        // A doctor's new patient: read, noted, listed, asked for consent.
        .by_id(
            "create_my_patient",
            "201",
            "$response.body#/patient/id",
            &["get_my_patient", "add_visit_note", "list_visit_notes"],
        )
        .by_id(
            "list_my_patients",
            "200",
            "$response.body#/items/0/id",
            &["get_my_patient", "add_visit_note", "list_visit_notes"],
        )
        .chain(
            "create_my_patient",
            "201",
            "list_records",
            &[("patient_id", "$response.body#/patient/id")],
        )
        // Visit notes: a note written is read back in the patient's list.
        .by_id(
            "add_visit_note",
            "201",
            "$response.body#/patient_id",
            &["list_visit_notes"],
        )
        // Records: an upload is read, downloaded and deleted.
        .by_id(
            "upload_record",
            "201",
            "$response.body#/id",
            &["get_record", "download_record", "delete_record"],
        )
        .by_id(
            "list_records",
            "200",
            "$response.body#/items/0/id",
            &["get_record", "download_record", "delete_record"],
        )
        .by_id(
            "get_record",
            "200",
            "$response.body#/id",
            &["download_record", "delete_record"],
        )
        // Consent: a request is read, redeemed, approved or denied; the grant it gives revoked.
        .by_id(
            "create_access_request",
            "201",
            "$response.body#/id",
            &[
                "get_access_request",
                "redeem_access_request",
                "approve_access_request",
                "deny_access_request",
            ],
        )
        .by_id(
            "list_access_requests",
            "200",
            "$response.body#/items/0/id",
            &[
                "get_access_request",
                "redeem_access_request",
                "approve_access_request",
                "deny_access_request",
            ],
        )
        .by_id(
            "redeem_access_request",
            "200",
            "$response.body#/id",
            &["revoke_grant"],
        )
        .by_id(
            "approve_access_request",
            "200",
            "$response.body#/id",
            &["revoke_grant"],
        )
        .by_id(
            "list_grants",
            "200",
            "$response.body#/items/0/id",
            &["revoke_grant"],
        )
        // Emergency access: opened, read, ended, reviewed.
        .by_id(
            "open_emergency_access",
            "201",
            "$response.body#/id",
            &[
                "get_emergency_access",
                "end_emergency_access",
                "review_emergency_access",
            ],
        )
        .by_id(
            "list_emergency_accesses",
            "200",
            "$response.body#/items/0/id",
            &[
                "get_emergency_access",
                "end_emergency_access",
                "review_emergency_access",
            ],
        )
        // A patient's care: a doctor added is removed again.
        .chain(
            "add_my_care_doctor",
            "200",
            "remove_my_care_doctor",
            &[("doctor_id", "$response.body#/0/doctor_id")],
        )
        .chain(
            "list_my_care",
            "200",
            "remove_my_care_doctor",
            &[("doctor_id", "$response.body#/0/doctor_id")],
        )
        .0
}

/// The operations of `openapi` by id.
fn operations(openapi: &mut OpenApi) -> BTreeMap<String, &mut Operation> {
    super::responses::operations_mut(openapi)
        .filter_map(|op| op.operation_id.clone().map(|id| (id, op)))
        .collect()
}

/// Adds [`chains`] to the spec, each as a link named after its target operation on the
/// source operation's answer. A chain whose source operation or status is missing is left
/// out (and fails `every_link_resolves`).
pub struct Links;

impl Modify for Links {
    fn modify(&self, openapi: &mut OpenApi) {
        let mut ops = operations(openapi);
        for chain in &chains() {
            let Some(op) = ops.get_mut(chain.from) else {
                continue;
            };
            let Some(RefOr::T(response)) = op.responses.responses.get_mut(chain.status) else {
                continue;
            };
            // utoipa 5 serialises `Link::operation_id` as `operation_id`, not the spec's
            // `operationId` (which clients then reject), so the target is named through the
            // one extension key instead (one key: its map's order cannot vary).
            // (`ExtensionsBuilder::add` would prefix the key with `x-`; the map itself does not.)
            let mut target = Extensions::default();
            target.insert("operationId".to_owned(), chain.to.into());
            let mut link = LinkBuilder::new().extensions(Some(target));
            for (name, expression) in &chain.parameters {
                link = link.parameter(*name, *expression);
            }
            response
                .links
                .insert(chain.to.to_string(), link.build().into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::OpenApi as _;

    /// Every chain's source answer exists, its target operation exists, and each parameter it
    /// fills is one the target reads.
    #[test]
    fn every_link_resolves() {
        let mut doc = crate::routes::ApiDoc::openapi();
        let ops = operations(&mut doc);
        for chain in &chains() {
            let from = ops
                .get(chain.from)
                .unwrap_or_else(|| panic!("no operation {}", chain.from));
            let Some(RefOr::T(response)) = from.responses.responses.get(chain.status) else {
                panic!("{} has no {} answer", chain.from, chain.status);
            };
            assert!(
                response.links.contains_key(chain.to),
                "{} -> {} missing",
                chain.from,
                chain.to
            );
            let to = ops
                .get(chain.to)
                .unwrap_or_else(|| panic!("no operation {}", chain.to));
            for (name, _) in &chain.parameters {
                assert!(
                    to.parameters.iter().flatten().any(|p| p.name == *name),
                    "{} reads no parameter {name}",
                    chain.to
                );
            }
        }
    }

    /// Links name their target as the spec spells it (`operationId`), which clients need.
    #[test]
    fn links_name_their_target_operation_id() {
        let spec: serde_json::Value =
            serde_json::from_str(&crate::openapi::spec_json()).expect("json");
        let link =
            &spec["paths"]["/api/v1/records"]["post"]["responses"]["201"]["links"]["get_record"];
        assert_eq!(link["operationId"], "get_record", "{link}");
        assert_eq!(link["parameters"]["id"], "$response.body#/id", "{link}");
        assert!(link.get("operation_id").is_none(), "{link}");
    }
}
