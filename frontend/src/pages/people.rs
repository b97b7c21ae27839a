//! The doctor and patient forms shared by the admin's and the doctor's screens: the inputs, and
//! turning them into validated request bodies (create or full-form update); and the search box
//! and paging of their lists of people. Admins manage accounts, not clinical data: their
//! patient form has identity and contact fields only.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::api::dto::{
    BloodGroup, CreateDoctor, CreatePatient, Doctor, Patient, Sex, UpdateDoctor, UpdatePatient,
};
use crate::logic::validate::{self, Checks, blank_to_none};
use crate::ui::form::{Field, FormState, Select, TextArea};
use crate::ui::load::Reload;
use crate::ui::widgets::today;

type Errors = BTreeMap<String, String>;

/// Inputs of a doctor form.
#[derive(Clone, Copy)]
pub struct DoctorFields {
    email: RwSignal<String>,
    full_name: RwSignal<String>,
    specialty: RwSignal<String>,
    licence_number: RwSignal<String>,
    phone: RwSignal<String>,
}

impl DoctorFields {
    /// Empty, or filled from an existing doctor.
    pub fn new(from: Option<&Doctor>) -> Self {
        let s = |f: fn(&Doctor) -> String| RwSignal::new(from.map(f).unwrap_or_default());
        Self {
            email: s(|d| d.email.clone()),
            full_name: s(|d| d.full_name.clone()),
            specialty: s(|d| d.specialty.clone()),
            licence_number: s(|d| d.licence_number.clone()),
            phone: s(|d| d.phone.clone().unwrap_or_default()),
        }
    }

    fn checked(&self) -> Result<(), Errors> {
        let mut c = Checks::new();
        c.check("email", validate::email(&self.email.get_untracked()));
        c.check(
            "full_name",
            validate::required(&self.full_name.get_untracked(), 100),
        );
        c.check(
            "specialty",
            validate::required(&self.specialty.get_untracked(), 100),
        );
        c.check(
            "licence_number",
            validate::required(&self.licence_number.get_untracked(), 32),
        );
        c.check("phone", validate::phone(&self.phone.get_untracked()));
        c.finish()
    }

    fn text(s: RwSignal<String>) -> String {
        s.get_untracked().trim().to_string()
    }

    /// Validated body for adding a doctor.
    pub fn create(&self) -> Result<CreateDoctor, Errors> {
        self.checked()?;
        Ok(CreateDoctor {
            email: Self::text(self.email),
            full_name: Self::text(self.full_name),
            specialty: Self::text(self.specialty),
            licence_number: Self::text(self.licence_number),
            phone: blank_to_none(&self.phone.get_untracked()),
        })
    }

    /// Validated body for saving the whole form over an existing doctor.
    pub fn update(&self) -> Result<UpdateDoctor, Errors> {
        let c = self.create()?;
        Ok(UpdateDoctor {
            email: Some(c.email),
            full_name: Some(c.full_name),
            specialty: Some(c.specialty),
            licence_number: Some(c.licence_number),
            phone: Some(c.phone),
        })
    }
}

/// The doctor form's inputs.
#[component]
pub fn DoctorInputs(
    /// Values.
    fields: DoctorFields,
    /// Form state.
    form: FormState,
) -> impl IntoView {
    view! {
        <Field label="E-mail" name="email" kind="email" value=fields.email form=form required=true/>
        <Field label="Full name" name="full_name" value=fields.full_name form=form required=true/>
        <Field label="Specialty" name="specialty" value=fields.specialty form=form required=true/>
        <Field label="Licence number" name="licence_number" value=fields.licence_number form=form required=true
            hint="3 to 32 letters, digits, - or /."/>
        <Field label="Phone" name="phone" kind="tel" value=fields.phone form=form/>
    }
}

/// Inputs of a patient form.
#[derive(Clone, Copy)]
pub struct PatientFields {
    /// The form has the clinical fields (a doctor's); an admin's has identity and contact only.
    clinical: bool,
    email: RwSignal<String>,
    first_name: RwSignal<String>,
    last_name: RwSignal<String>,
    date_of_birth: RwSignal<String>,
    sex: RwSignal<String>,
    phone: RwSignal<String>,
    address: RwSignal<String>,
    city: RwSignal<String>,
    state: RwSignal<String>,
    postal_code: RwSignal<String>,
    blood_group: RwSignal<String>,
    height_cm: RwSignal<String>,
    weight_kg: RwSignal<String>,
    allergies: RwSignal<String>,
    emergency_contact: RwSignal<String>,
}

fn opt(v: Option<&String>) -> String {
    v.cloned().unwrap_or_default()
}

fn num(v: Option<f64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

impl PatientFields {
    /// A doctor's form, with the clinical fields: empty, or filled from an existing patient.
    pub fn new(from: Option<&Patient>) -> Self {
        Self::with(from, true)
    }

    /// An admin's form: identity and contact fields only (the server refuses clinical fields
    /// from admins), empty or filled from an existing patient.
    pub fn identity_only(from: Option<&Patient>) -> Self {
        Self::with(from, false)
    }

    fn with(from: Option<&Patient>, clinical: bool) -> Self {
        let s = |f: &dyn Fn(&Patient) -> String| RwSignal::new(from.map(f).unwrap_or_default());
        Self {
            clinical,
            email: s(&|p| p.email.clone()),
            first_name: s(&|p| p.first_name.clone()),
            last_name: s(&|p| p.last_name.clone()),
            date_of_birth: s(&|p| p.date_of_birth.to_string()),
            sex: RwSignal::new(from.map_or(Sex::Unknown, |p| p.sex).as_str().to_string()),
            phone: s(&|p| opt(p.phone.as_ref())),
            address: s(&|p| opt(p.address.as_ref())),
            city: s(&|p| opt(p.city.as_ref())),
            state: s(&|p| opt(p.state.as_ref())),
            postal_code: s(&|p| opt(p.postal_code.as_ref())),
            blood_group: s(&|p| {
                p.blood_group
                    .map(|b| b.as_str().to_string())
                    .unwrap_or_default()
            }),
            height_cm: s(&|p| num(p.height_cm)),
            weight_kg: s(&|p| num(p.weight_kg)),
            allergies: s(&|p| opt(p.allergies.as_ref())),
            emergency_contact: s(&|p| opt(p.emergency_contact.as_ref())),
        }
    }

    /// Validated body for adding a patient (an admin's form leaves the clinical fields out).
    pub fn create(&self) -> Result<CreatePatient, Errors> {
        let g = |s: RwSignal<String>| s.get_untracked();
        let mut c = Checks::new();
        c.check("email", validate::email(&g(self.email)));
        c.check("first_name", validate::required(&g(self.first_name), 100));
        c.check("last_name", validate::required(&g(self.last_name), 100));
        let dob = c.check(
            "date_of_birth",
            validate::past_date(&g(self.date_of_birth), today()),
        );
        let sex = c.check(
            "sex",
            Sex::parse(&g(self.sex)).ok_or_else(|| "Choose one.".to_string()),
        );
        c.check("phone", validate::phone(&g(self.phone)));
        for (name, sig, max) in [
            ("address", self.address, 200),
            ("city", self.city, 100),
            ("state", self.state, 100),
            ("postal_code", self.postal_code, 10),
            ("emergency_contact", self.emergency_contact, 200),
        ] {
            c.check(name, validate::optional(&g(sig), max));
        }
        let clinical = if self.clinical {
            self.clinical_values(&mut c)
        } else {
            Clinical::default()
        };
        c.finish()?;
        let (Some(date_of_birth), Some(sex)) = (dob, sex) else {
            return Err(Errors::new());
        };
        Ok(CreatePatient {
            email: g(self.email).trim().to_string(),
            first_name: g(self.first_name).trim().to_string(),
            last_name: g(self.last_name).trim().to_string(),
            date_of_birth,
            sex,
            phone: blank_to_none(&g(self.phone)),
            address: blank_to_none(&g(self.address)),
            city: blank_to_none(&g(self.city)),
            state: blank_to_none(&g(self.state)),
            postal_code: blank_to_none(&g(self.postal_code)),
            blood_group: clinical.blood_group,
            height_cm: clinical.height_cm,
            weight_kg: clinical.weight_kg,
            allergies: clinical.allergies,
            emergency_contact: blank_to_none(&g(self.emergency_contact)),
        })
    }

    /// The clinical inputs, checked (a doctor's form only).
    fn clinical_values(&self, c: &mut Checks) -> Clinical {
        let g = |s: RwSignal<String>| s.get_untracked();
        c.check("allergies", validate::optional(&g(self.allergies), 1000));
        let height = c.check(
            "height_cm",
            validate::optional_decimal(&g(self.height_cm), 20.0, 300.0),
        );
        let weight = c.check(
            "weight_kg",
            validate::optional_decimal(&g(self.weight_kg), 0.2, 700.0),
        );
        let blood = g(self.blood_group);
        let blood_group = if blood.is_empty() {
            None
        } else {
            c.check(
                "blood_group",
                BloodGroup::parse(&blood).ok_or_else(|| "Choose one.".to_string()),
            )
        };
        Clinical {
            blood_group,
            height_cm: height.flatten(),
            weight_kg: weight.flatten(),
            allergies: blank_to_none(&g(self.allergies)),
        }
    }

    /// Validated body for saving the whole form over an existing patient. An admin's form
    /// leaves the clinical fields out (absent, so they stay as they are).
    pub fn update(&self) -> Result<UpdatePatient, Errors> {
        let c = self.create()?;
        let clinical = self.clinical;
        Ok(UpdatePatient {
            email: Some(c.email),
            first_name: Some(c.first_name),
            last_name: Some(c.last_name),
            date_of_birth: Some(c.date_of_birth),
            sex: Some(c.sex),
            phone: Some(c.phone),
            address: Some(c.address),
            city: Some(c.city),
            state: Some(c.state),
            postal_code: Some(c.postal_code),
            blood_group: clinical.then_some(c.blood_group),
            height_cm: clinical.then_some(c.height_cm),
            weight_kg: clinical.then_some(c.weight_kg),
            allergies: clinical.then_some(c.allergies),
            emergency_contact: Some(c.emergency_contact),
        })
    }
}

/// The clinical fields of a patient form, checked.
#[derive(Default)]
struct Clinical {
    blood_group: Option<BloodGroup>,
    height_cm: Option<f64>,
    weight_kg: Option<f64>,
    allergies: Option<String>,
}

/// Choices of the sex select.
pub fn sex_choices() -> Vec<(String, String)> {
    Sex::ALL
        .into_iter()
        .map(|s| (s.as_str().to_string(), sex_label(s).to_string()))
        .collect()
}

/// A person-readable sex.
pub fn sex_label(s: Sex) -> &'static str {
    match s {
        Sex::Female => "Female",
        Sex::Male => "Male",
        Sex::Other => "Other",
        Sex::Unknown => "Not stated",
    }
}

/// The patient form's inputs (the clinical ones only on a doctor's form).
#[component]
pub fn PatientInputs(
    /// Values.
    fields: PatientFields,
    /// Form state.
    form: FormState,
) -> impl IntoView {
    let mut groups = vec![(String::new(), "Unknown".to_string())];
    groups.extend(
        BloodGroup::ALL
            .into_iter()
            .map(|b| (b.as_str().to_string(), b.as_str().to_string())),
    );
    view! {
        <Field label="E-mail" name="email" kind="email" value=fields.email form=form required=true/>
        <div class="grid2">
            <Field label="First name" name="first_name" value=fields.first_name form=form required=true/>
            <Field label="Last name" name="last_name" value=fields.last_name form=form required=true/>
            <Field label="Date of birth" name="date_of_birth" kind="date" value=fields.date_of_birth form=form required=true/>
            <Select label="Sex" name="sex" value=fields.sex options=sex_choices() form=form/>
            <Field label="Phone" name="phone" kind="tel" value=fields.phone form=form/>
            <Field label="Address" name="address" value=fields.address form=form/>
            <Field label="City" name="city" value=fields.city form=form/>
            <Field label="State" name="state" value=fields.state form=form/>
            <Field label="Postal code" name="postal_code" value=fields.postal_code form=form/>
        </div>
        <Field label="Emergency contact" name="emergency_contact" value=fields.emergency_contact form=form/>
        {fields.clinical.then(|| view! {
            <div class="grid2">
                <Select label="Blood group" name="blood_group" value=fields.blood_group options=groups form=form/>
                <Field label="Height (cm)" name="height_cm" value=fields.height_cm form=form/>
                <Field label="Weight (kg)" name="weight_kg" value=fields.weight_kg form=form/>
            </div>
            <TextArea label="Allergies" name="allergies" value=fields.allergies form=form/>
        })}
    }
}

/// A patient's full name.
pub fn patient_name(p: &Patient) -> String {
    format!("{} {}", p.first_name, p.last_name)
}

/// A searched, paged list of people: what the search box holds, the search last submitted, the
/// page, and the reload of the list.
#[derive(Clone, Copy)]
pub struct PeopleSearch {
    /// The search box.
    text: RwSignal<String>,
    /// The search last submitted.
    query: RwSignal<String>,
    /// 1-based page.
    pub page: RwSignal<u32>,
    /// Loads the same page again.
    again: Reload,
}

impl PeopleSearch {
    /// No search, first page.
    pub fn new() -> Self {
        Self {
            text: RwSignal::new(String::new()),
            query: RwSignal::new(String::new()),
            page: RwSignal::new(1),
            again: Reload::new(),
        }
    }

    /// The list: `fetch(query, page)`, again whenever the search or page changes or on
    /// [`reload`](Self::reload).
    pub fn load<T, Fut>(self, fetch: impl Fn(String, u32) -> Fut + 'static) -> LocalResource<T>
    where
        T: 'static,
        Fut: Future<Output = T> + 'static,
    {
        self.again
            .load(move || fetch(self.query.get(), self.page.get()))
    }

    /// Loads the list again (after a change to one of its people).
    pub fn reload(self) {
        self.again.reload();
    }
}

impl Default for PeopleSearch {
    fn default() -> Self {
        Self::new()
    }
}

/// The "Search by name or e-mail" box over a list of people: submitting it searches from the
/// first page.
#[component]
pub fn SearchForm(
    /// The list's search.
    search: PeopleSearch,
    /// The input's id.
    id: &'static str,
) -> impl IntoView {
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        search.page.set(1);
        search.query.set(search.text.get_untracked());
    };
    view! {
        <form class="search" role="search" on:submit=submit>
            <label for=id>"Search by name or e-mail"</label>
            <input id=id type="search" bind:value=search.text/>
            <button type="submit" class="secondary">"Search"</button>
        </form>
    }
}
