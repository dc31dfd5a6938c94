//! Fixed texts of the PDF rendition, in French and English (its own; the vocabulary it shares
//! with the HTML view is `crate::terms`).

use crate::terms::{self, Terms};

/// Fixed texts of the rendition.
pub(super) struct Labels {
    /// The vocabulary shared with the HTML rendition.
    pub(super) terms: &'static Terms,
    pub(super) kind: &'static str,
    pub(super) given_names: &'static str,
    pub(super) birth_date: &'static str,
    pub(super) doc_date: &'static str,
    pub(super) signed_on: &'static str,
    pub(super) pdf_copy_text: &'static str,
    pub(super) n1_text: &'static str,
    pub(super) image: &'static str,
    pub(super) pdf_file: &'static str,
    pub(super) colophon: &'static str,
    pub(super) doc_id: &'static str,
    pub(super) born: &'static str,
    pub(super) truncated: &'static str,
}

pub(super) const FR: Labels = Labels {
    terms: &terms::FR,
    kind: "Document CDA",
    given_names: "Prénom(s)",
    birth_date: "Date de naissance",
    doc_date: "Date du document",
    signed_on: "signé le",
    pdf_copy_text: "Le document CDA contient aussi une copie PDF, non reproduite ici.",
    n1_text: "Le contenu de ce document est un fichier joint au document CDA ; \
              il n'est pas reproduit ici.",
    image: "Image",
    pdf_file: "Document PDF joint",
    colophon: "Transcription PDF du document CDA établie par Pli (en-tête et texte des sections). \
               Le document CDA fait foi.",
    doc_id: "Identifiant du document",
    born: "né(e) le",
    truncated: "Document tronqué : la limite de {} pages du rendu PDF est atteinte. \
                Le document CDA complet fait foi.",
};

pub(super) const EN: Labels = Labels {
    terms: &terms::EN,
    kind: "CDA document",
    given_names: "Given name(s)",
    birth_date: "Date of birth",
    doc_date: "Document date",
    signed_on: "signed on",
    pdf_copy_text: "The CDA document also carries a PDF copy, not reproduced here.",
    n1_text: "This document's content is a file attached to the CDA document; \
              it is not reproduced here.",
    image: "Image",
    pdf_file: "Attached PDF document",
    colophon: "PDF transcription of the CDA document made by Pli (header and section text). \
               The CDA document is authoritative.",
    doc_id: "Document identifier",
    born: "born",
    truncated: "Document truncated: the {}-page limit of the PDF rendition was reached. \
                The complete CDA document is authoritative.",
};
