//! The document model: an owned, already-sanitised view of a CDA R2 document.
//!
//! Everything here is plain data. Strings come from the sender and are *not*
//! escaped: the renderer escapes them on output.

use serde::Serialize;

use crate::narrative::NarrativeNode;

/// A coded value (`code`, `codeSystem`, `displayName`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Code {
    /// The code itself (`11502-2`).
    pub code: Option<String>,
    /// The code system OID (`2.16.840.1.113883.6.1` for LOINC).
    pub system: Option<String>,
    /// The human label given by the sender.
    pub display: Option<String>,
}

impl Code {
    /// The label to show: display name, else the code.
    pub fn label(&self) -> Option<&str> {
        self.display.as_deref().or(self.code.as_deref())
    }
}

/// An instance identifier (`root` OID plus optional `extension`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Identifier {
    /// The OID (or UUID) naming the issuer.
    pub root: Option<String>,
    /// The identifier within that issuer.
    pub extension: Option<String>,
}

impl Identifier {
    /// `extension (root)`, or the root alone.
    pub fn display(&self) -> String {
        match (&self.extension, &self.root) {
            (Some(e), Some(r)) => format!("{e} ({r})"),
            (Some(e), None) => e.clone(),
            (None, Some(r)) => r.clone(),
            (None, None) => String::new(),
        }
    }
}

/// An HL7 timestamp (`TS`), kept as sent and split into its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timestamp {
    /// The value as sent (`20240104160527+0100`).
    pub raw: String,
    /// ISO 8601 form (`2024-01-04T16:05:27+01:00`, or `2024-01-04` for a date).
    pub iso: String,
}

/// One part of a person name, with its HL7 qualifier (`BR` birth, `CL` used…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamePart {
    /// The text of the part.
    pub value: String,
    /// `qualifier` attribute, if any.
    pub qualifier: Option<String>,
}

/// A person name (`PN`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PersonName {
    /// `prefix` parts (`MME`, `Dr`).
    pub prefix: Vec<String>,
    /// `given` parts in document order.
    pub given: Vec<NamePart>,
    /// `family` parts in document order.
    pub family: Vec<NamePart>,
    /// `suffix` parts.
    pub suffix: Vec<String>,
    /// Text of a name given without parts.
    pub text: Option<String>,
}

impl PersonName {
    /// The birth family name (qualifier `BR`), else the first family name.
    pub fn birth_family(&self) -> Option<&str> {
        self.family
            .iter()
            .find(|p| p.qualifier.as_deref() == Some("BR"))
            .or_else(|| self.family.first())
            .map(|p| p.value.as_str())
    }

    /// The used family name (qualifier `CL` or `SP`) when it differs from the birth name.
    pub fn used_family(&self) -> Option<&str> {
        let used = self
            .family
            .iter()
            .find(|p| matches!(p.qualifier.as_deref(), Some("CL" | "SP")))?;
        (Some(used.value.as_str()) != self.birth_family()).then_some(used.value.as_str())
    }

    /// Given names without the "used" (`CL`) duplicates, deduplicated, in order.
    pub fn given_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in &self.given {
            if p.qualifier.as_deref() == Some("CL") && !out.is_empty() {
                continue;
            }
            if !out.contains(&p.value) {
                out.push(p.value.clone());
            }
        }
        out
    }

    /// "Given FAMILY" (with the used name in brackets when it differs).
    pub fn display(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(g) = self.given.first() {
            parts.push(g.value.clone());
        }
        if let Some(f) = self.birth_family() {
            parts.push(f.to_owned());
        }
        if let Some(u) = self.used_family() {
            parts.push(format!("({u})"));
        }
        if parts.is_empty() {
            return self.text.clone().unwrap_or_default();
        }
        parts.join(" ")
    }
}

/// A postal address, as lines ready to show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Address {
    /// Lines in reading order (street, then postal code and city, then country).
    pub lines: Vec<String>,
}

/// A telecom address (`tel:`, `mailto:`, `fax:`…), kept as text: never made a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Telecom {
    /// The value without its scheme (`0144534551`).
    pub value: String,
    /// The scheme (`tel`, `mailto`, `fax`, `http`…), lower case.
    pub scheme: Option<String>,
    /// The `use` attribute (`H`, `WP`, `MC`…).
    pub use_code: Option<String>,
}

/// The kind of INS (Identifiant National de Santé), from its OID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InsKind {
    /// INS-NIR, production (`1.2.250.1.213.1.4.8`).
    Nir,
    /// INS-NIA, provisional number (`1.2.250.1.213.1.4.9`).
    Nia,
    /// Test INS-NIR (`1.2.250.1.213.1.4.10`).
    TestNir,
    /// Demonstration INS-NIR (`1.2.250.1.213.1.4.11`).
    DemoNir,
}

impl InsKind {
    /// The kind for an OID, if it is an INS OID.
    pub fn from_oid(oid: &str) -> Option<Self> {
        match oid {
            "1.2.250.1.213.1.4.8" => Some(Self::Nir),
            "1.2.250.1.213.1.4.9" => Some(Self::Nia),
            "1.2.250.1.213.1.4.10" => Some(Self::TestNir),
            "1.2.250.1.213.1.4.11" => Some(Self::DemoNir),
            _ => None,
        }
    }
}

/// The patient's INS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ins {
    /// The 15-character number.
    pub value: String,
    /// The OID it was given with.
    pub oid: String,
    /// What the OID says about it.
    pub kind: InsKind,
}

/// The patient (`recordTarget/patientRole`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Patient {
    /// Names (usually one, with birth and used parts).
    pub names: Vec<PersonName>,
    /// Birth date.
    pub birth_time: Option<Timestamp>,
    /// Administrative gender.
    pub gender: Option<Code>,
    /// The INS, when one of the INS OIDs is present.
    pub ins: Option<Ins>,
    /// Every other identifier (IPP…).
    pub other_ids: Vec<Identifier>,
    /// Addresses.
    pub addresses: Vec<Address>,
    /// Telecoms.
    pub telecoms: Vec<Telecom>,
    /// Birth place (city), if given.
    pub birth_place: Option<String>,
    /// Legal representative's name, if given.
    pub guardian: Option<String>,
}

/// An organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Organization {
    /// Name.
    pub name: Option<String>,
    /// Identifiers (FINESS, SIRET…).
    pub ids: Vec<Identifier>,
    /// Addresses.
    pub addresses: Vec<Address>,
    /// Telecoms.
    pub telecoms: Vec<Telecom>,
}

/// An assigned person or device with its role (author, authenticator, recipient…).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Actor {
    /// The person's name, if a person.
    pub person: Option<PersonName>,
    /// The device (`manufacturerModelName softwareName`), if a device.
    pub device: Option<String>,
    /// Role or specialty (`assignedAuthor/code`).
    pub role: Option<Code>,
    /// Identifiers (RPPS…).
    pub ids: Vec<Identifier>,
    /// The organisation represented.
    pub organization: Option<Organization>,
    /// Telecoms.
    pub telecoms: Vec<Telecom>,
    /// Addresses.
    pub addresses: Vec<Address>,
    /// When (authoring time, signature time…).
    pub time: Option<Timestamp>,
}

impl Actor {
    /// Person name, else device, else organisation name.
    pub fn display_name(&self) -> String {
        self.person
            .as_ref()
            .map(PersonName::display)
            .filter(|s| !s.is_empty())
            .or_else(|| self.device.clone())
            .or_else(|| self.organization.as_ref().and_then(|o| o.name.clone()))
            .unwrap_or_default()
    }
}

/// A related person (informant: emergency contact, trusted person…).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RelatedPerson {
    /// The relationship class (`ECON` emergency contact, `NOK` trusted person…).
    pub class_code: Option<String>,
    /// The relationship (`Soeur`).
    pub relation: Option<Code>,
    /// Name.
    pub name: Option<PersonName>,
    /// Telecoms.
    pub telecoms: Vec<Telecom>,
}

/// An HL7 interval of time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Period {
    /// Start (`low`, or the single `value`).
    pub low: Option<Timestamp>,
    /// End (`high`).
    pub high: Option<Timestamp>,
}

/// `componentOf/encompassingEncounter`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Encounter {
    /// Identifiers (visit number…).
    pub ids: Vec<Identifier>,
    /// Encounter type.
    pub code: Option<Code>,
    /// When.
    pub period: Period,
    /// Responsible party.
    pub responsible: Option<Actor>,
    /// Healthcare facility (name, or the organisation's).
    pub location: Option<String>,
}

/// `documentationOf/serviceEvent`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceEvent {
    /// The act.
    pub code: Option<Code>,
    /// When.
    pub period: Period,
    /// Performers.
    pub performers: Vec<Actor>,
}

/// The wrapper a document arrived in, if the root was not `ClinicalDocument`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Wrapper {
    /// XAdES enveloping signature (`ds:Signature/ds:Object/ClinicalDocument`).
    /// The signature is **not** verified.
    XadesSignature,
    /// "Auto-presentable" document: an XSLT stylesheet carrying the CDA.
    /// The stylesheet is never executed.
    AutoPresentable,
}

/// Where an embedded medium came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaOrigin {
    /// `nonXMLBody/text` (level N1).
    NonXmlBody,
    /// An `observationMedia/value` in the structured body.
    ObservationMedia,
}

/// An embedded medium, decoded.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Media {
    /// `observationMedia/@ID`, referenced by `renderMultiMedia`.
    pub id: Option<String>,
    /// The `mediaType` the sender declared.
    pub declared_type: Option<String>,
    /// The type recognised from the bytes (see [`crate::media::sniff`]).
    pub sniffed_type: &'static str,
    /// The decoded bytes.
    #[serde(skip)]
    pub bytes: Vec<u8>,
    /// Where it came from.
    pub origin: MediaOrigin,
    /// A remote URL the sender gave instead of inline data. Never fetched.
    pub remote_reference: Option<String>,
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media")
            .field("id", &self.id)
            .field("declared_type", &self.declared_type)
            .field("sniffed_type", &self.sniffed_type)
            .field("size", &self.bytes.len())
            .field("origin", &self.origin)
            .finish()
    }
}

/// A section of a structured body.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Section {
    /// `section/@ID`.
    pub id: Option<String>,
    /// Section code (LOINC mostly).
    pub code: Option<Code>,
    /// Title as sent.
    pub title: Option<String>,
    /// The narrative block, sanitised.
    pub text: Vec<NarrativeNode>,
    /// Nested sections.
    pub sections: Vec<Section>,
}

impl Section {
    /// True for the CI-SIS "FR-Document-PDF-copie" section (LOINC 55108-5).
    pub fn is_pdf_copy(&self) -> bool {
        self.code.as_ref().and_then(|c| c.code.as_deref()) == Some("55108-5")
    }
}

/// The document body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// Level N1: one embedded file, at this index of [`Document::media`].
    NonXml {
        /// Index into [`Document::media`].
        media: usize,
    },
    /// Level N3 (or N2): sections with narrative.
    Structured {
        /// Top-level sections.
        sections: Vec<Section>,
    },
}

/// One structured laboratory result (level-3 entry of a CR-BIO).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LabResult {
    /// The battery, isolate or chapter it belongs to.
    pub group: Option<String>,
    /// The analysis (narrative label, else the code's display name).
    pub analysis: String,
    /// The analysis code (LOINC).
    pub code: Option<String>,
    /// The value as text (number, coded label or text).
    pub value: String,
    /// The unit, for physical quantities.
    pub unit: Option<String>,
    /// Reference range, as text.
    pub reference_range: Option<String>,
    /// Interpretation flag (`H`, `L`, `N`, `S`, `R`…) with its label.
    pub interpretation: Option<Code>,
}

/// A parsed CDA R2 document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    /// The wrapper the document came in, if any.
    pub wrapper: Option<Wrapper>,
    /// Document id.
    pub id: Option<Identifier>,
    /// Title, falling back to the type code's display name.
    pub title: String,
    /// Document type (LOINC or CI-SIS).
    pub type_code: Option<Code>,
    /// Creation time.
    pub effective_time: Option<Timestamp>,
    /// Confidentiality (`N`, `R`, `V`).
    pub confidentiality: Option<Code>,
    /// Language (`fr-FR`).
    pub language: Option<String>,
    /// Identifier common to every version.
    pub set_id: Option<Identifier>,
    /// Version number.
    pub version: Option<String>,
    /// Parent document this one replaces or appends to.
    pub parent_document: Option<Identifier>,
    /// The patient.
    pub patient: Option<Patient>,
    /// Authors (persons or devices).
    pub authors: Vec<Actor>,
    /// Custodian organisation.
    pub custodian: Option<Organization>,
    /// Legal authenticator (with signature time).
    pub legal_authenticator: Option<Actor>,
    /// Intended recipients.
    pub recipients: Vec<Actor>,
    /// Informants (emergency contact, trusted person).
    pub informants: Vec<RelatedPerson>,
    /// Encompassing encounter (stay, consultation).
    pub encounter: Option<Encounter>,
    /// Documented acts.
    pub service_events: Vec<ServiceEvent>,
    /// The body.
    pub body: Body,
    /// Every embedded medium (N1 body, observationMedia), decoded.
    pub media: Vec<Media>,
    /// Structured laboratory results (CR-BIO level 3), empty elsewhere.
    pub lab_results: Vec<LabResult>,
}

impl Document {
    /// `"N1"` for a non-XML body, `"N3"` for a structured one.
    pub fn level(&self) -> &'static str {
        match self.body {
            Body::NonXml { .. } => "N1",
            Body::Structured { .. } => "N3",
        }
    }

    /// Top-level sections (empty for N1).
    pub fn sections(&self) -> &[Section] {
        match &self.body {
            Body::Structured { sections } => sections,
            Body::NonXml { .. } => &[],
        }
    }

    /// The N1 body's medium.
    pub fn non_xml_body(&self) -> Option<&Media> {
        match self.body {
            Body::NonXml { media } => self.media.get(media),
            Body::Structured { .. } => None,
        }
    }

    /// The medium an `observationMedia/@ID` names.
    pub fn media_by_id(&self, id: &str) -> Option<(usize, &Media)> {
        self.media
            .iter()
            .enumerate()
            .find(|(_, m)| m.id.as_deref() == Some(id))
    }

    /// The PDF carried by the document: the N1 body if it is a PDF, else the
    /// N3 "PDF copy" (first `observationMedia` sniffed as PDF).
    pub fn pdf(&self) -> Option<&Media> {
        match self.non_xml_body() {
            Some(m) if m.sniffed_type == "application/pdf" => Some(m),
            Some(_) => None,
            None => self
                .media
                .iter()
                .find(|m| m.sniffed_type == "application/pdf"),
        }
    }

    /// Text of the document's PDF (see [`Document::pdf`]), for the search index
    /// and a preview. `None` when there is no PDF.
    pub fn pdf_text(&self) -> Option<Result<String, crate::PdfError>> {
        self.pdf().map(|m| crate::pdf_text(&m.bytes))
    }

    /// True for a biology report (CR-BIO, LOINC 11502-2).
    pub fn is_lab_report(&self) -> bool {
        self.type_code.as_ref().and_then(|c| c.code.as_deref()) == Some("11502-2")
    }
}
