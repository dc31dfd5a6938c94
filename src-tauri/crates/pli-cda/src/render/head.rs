//! The page header (title, summary cards) and the footer (the full CDA header).

use std::fmt::Write as _;

use super::{esc, fmt_time, Ctx};
use crate::model::{
    Actor, Address, Code, Identifier, InsKind, Organization, Patient, Period, PersonName, Telecom,
};

/// Title block and summary cards: patient, author, encounter, service event.
pub(super) fn header(ctx: &mut Ctx<'_>) {
    let (doc, l, lang) = (ctx.doc, ctx.l, ctx.options.lang);
    let mut buf = String::new();
    let out = &mut buf;
    out.push_str("<header class=\"doc-head\">\n");
    let mut kind: Vec<String> = Vec::new();
    if let Some(t) = doc.type_code.as_ref().and_then(Code::label) {
        if t != doc.title {
            kind.push(esc(t));
        }
    }
    kind.push(format!("CDA {}", doc.level()));
    let _ = writeln!(out, "<p class=\"doc-kind\">{}</p>", kind.join(" · "));
    let _ = writeln!(out, "<h1>{}</h1>", esc(&doc.title));
    let mut meta: Vec<String> = Vec::new();
    if let Some(t) = &doc.effective_time {
        meta.push(format!("{} {}", l.created, esc(&fmt_time(t, lang))));
    }
    if let Some(v) = &doc.version {
        meta.push(format!("{} {}", l.terms.version, esc(v)));
    }
    match doc.confidentiality.as_ref().and_then(|c| c.code.as_deref()) {
        Some("R") => meta.push(format!(
            "<span class=\"badge\">{}</span>",
            l.terms.confidential
        )),
        Some("V") => meta.push(format!(
            "<span class=\"badge strong\">{}</span>",
            l.terms.very_confidential
        )),
        _ => {}
    }
    if !meta.is_empty() {
        let _ = writeln!(out, "<p class=\"doc-meta\">{}</p>", meta.join(" · "));
    }
    match doc.wrapper {
        Some(crate::model::Wrapper::XadesSignature) => {
            let _ = writeln!(out, "<p class=\"notice\">{}</p>", l.signature_note);
        }
        Some(crate::model::Wrapper::AutoPresentable) => {
            let _ = writeln!(out, "<p class=\"notice\">{}</p>", l.autopresentable_note);
        }
        None => {}
    }

    out.push_str("<div class=\"cards\">\n");
    if let Some(p) = &doc.patient {
        out.push_str("<section class=\"card patient\">\n");
        let _ = writeln!(out, "<h2>{}</h2>", l.terms.patient);
        patient_card(out, p, ctx.options.mask_ins, l, lang);
        out.push_str("</section>\n");
    }
    if !doc.authors.is_empty() {
        out.push_str("<section class=\"card\">\n");
        let title = if doc.authors.len() > 1 {
            l.terms.authors
        } else {
            l.terms.author
        };
        let _ = writeln!(out, "<h2>{title}</h2>");
        for a in &doc.authors {
            actor_short(out, a, ctx);
        }
        out.push_str("</section>\n");
    }
    if let Some(e) = &doc.encounter {
        out.push_str("<section class=\"card\">\n");
        let _ = writeln!(out, "<h2>{}</h2>", l.terms.encounter);
        if let Some(c) = e.code.as_ref().and_then(Code::label) {
            let _ = writeln!(out, "<p class=\"strong\">{}</p>", esc(c));
        }
        if let Some(p) = period_text(&e.period, ctx) {
            let _ = writeln!(out, "<p>{p}</p>");
        }
        if let Some(loc) = &e.location {
            let _ = writeln!(out, "<p>{}</p>", esc(loc));
        }
        if let Some(r) = &e.responsible {
            let _ = writeln!(
                out,
                "<p class=\"muted\">{} : {}</p>",
                l.responsible,
                esc(&r.display_name())
            );
        }
        out.push_str("</section>\n");
    }
    for se in &doc.service_events {
        out.push_str("<section class=\"card\">\n");
        let _ = writeln!(out, "<h2>{}</h2>", l.terms.service_event);
        if let Some(c) = se.code.as_ref().and_then(Code::label) {
            let _ = writeln!(out, "<p class=\"strong\">{}</p>", esc(c));
        }
        if let Some(p) = period_text(&se.period, ctx) {
            let _ = writeln!(out, "<p>{p}</p>");
        }
        for p in &se.performers {
            let _ = writeln!(out, "<p class=\"muted\">{}</p>", esc(&p.display_name()));
        }
        out.push_str("</section>\n");
    }
    out.push_str("</div>\n</header>\n");
    ctx.out.push_str(&buf);
}

fn patient_card(out: &mut String, p: &Patient, mask: bool, l: &super::Labels, lang: super::Lang) {
    if let Some(n) = p.names.first() {
        let given = n.given_names();
        let _ = write!(
            out,
            "<p class=\"patient-name\"><span class=\"family\">{}</span> {}",
            esc(n.birth_family().unwrap_or("")),
            esc(given.first().map(String::as_str).unwrap_or(""))
        );
        if let Some(u) = n.used_family() {
            let _ = write!(
                out,
                " <span class=\"muted\">({} : {})</span>",
                l.terms.used_name,
                esc(u)
            );
        }
        out.push_str("</p>\n");
    }
    let mut facts: Vec<String> = Vec::new();
    if let Some(b) = &p.birth_time {
        facts.push(format!("{} {}", l.born, esc(&fmt_time(b, lang))));
    }
    if let Some(g) = &p.gender {
        facts.push(format!("{} : {}", l.terms.sex, esc(&gender(g, l))));
    }
    if !facts.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", facts.join(" · "));
    }
    if let Some(ins) = &p.ins {
        let label = match ins.kind {
            InsKind::Nir => l.terms.ins,
            InsKind::Nia => l.terms.ins_nia,
            InsKind::TestNir => l.terms.ins_test,
            InsKind::DemoNir => l.terms.ins_demo,
        };
        let value = if mask {
            let keep: String = ins
                .value
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("•••••••••••{keep}")
        } else {
            ins.value.clone()
        };
        let _ = writeln!(
            out,
            "<p>{label} : <span class=\"mono\" title=\"{}\">{}</span></p>",
            esc(&ins.oid),
            esc(&value)
        );
    }
}

fn gender(g: &Code, l: &super::Labels) -> String {
    match g.code.as_deref() {
        Some("F") => l.terms.female.to_owned(),
        Some("M") => l.terms.male.to_owned(),
        Some("U" | "UN") => l.terms.unknown.to_owned(),
        _ => g.label().unwrap_or("").to_owned(),
    }
}

fn actor_short(out: &mut String, a: &Actor, ctx: &Ctx<'_>) {
    let _ = writeln!(out, "<p class=\"strong\">{}</p>", esc(&a.display_name()));
    if let Some(r) = a.role.as_ref().and_then(Code::label) {
        let _ = writeln!(out, "<p>{}</p>", esc(r));
    }
    if let Some(o) = a.organization.as_ref().and_then(|o| o.name.as_deref()) {
        if a.person.is_some() || a.device.is_some() {
            let _ = writeln!(out, "<p>{}</p>", esc(o));
        }
    }
    if let Some(t) = &a.time {
        let _ = writeln!(
            out,
            "<p class=\"muted\">{}</p>",
            esc(&fmt_time(t, ctx.options.lang))
        );
    }
}

fn period_text(p: &Period, ctx: &Ctx<'_>) -> Option<String> {
    let lang = ctx.options.lang;
    match (&p.low, &p.high) {
        (Some(a), Some(b)) if a.iso != b.iso => Some(format!(
            "{} {} {} {}",
            ctx.l.terms.from,
            esc(&fmt_time(a, lang)),
            ctx.l.terms.to,
            esc(&fmt_time(b, lang))
        )),
        (Some(a), _) => Some(esc(&fmt_time(a, lang))),
        (None, Some(b)) => Some(esc(&fmt_time(b, lang))),
        (None, None) => None,
    }
}

/// The full header, in the footer, as the reference stylesheets do.
pub(super) fn footer(ctx: &mut Ctx<'_>) {
    let (doc, l, lang) = (ctx.doc, ctx.l, ctx.options.lang);
    let mut f = String::new();
    let _ = writeln!(
        f,
        "<footer class=\"doc-foot\">\n<h2>{}</h2>\n<div class=\"foot-grid\">",
        l.doc_info
    );

    // Document
    let mut rows: Vec<(&str, String)> = Vec::new();
    if let Some(c) = &doc.type_code {
        rows.push((l.terms.doc_type, code_text(c)));
    }
    rows.push((l.level, doc.level().to_owned()));
    if let Some(id) = &doc.id {
        rows.push((l.identifier, esc(&id.display())));
    }
    if let Some(id) = &doc.set_id {
        rows.push((l.set_id, esc(&id.display())));
    }
    if let Some(v) = &doc.version {
        rows.push((l.terms.version, esc(v)));
    }
    if let Some(t) = &doc.effective_time {
        rows.push((l.created, esc(&fmt_time(t, lang))));
    }
    if let Some(c) = &doc.confidentiality {
        rows.push((l.terms.confidentiality, code_text(c)));
    }
    if let Some(lg) = &doc.language {
        rows.push((l.language, esc(lg)));
    }
    if let Some(p) = &doc.parent_document {
        rows.push((l.replaces, esc(&p.display())));
    }
    block(&mut f, l.terms.document, &rows);

    if let Some(p) = &doc.patient {
        let mut rows: Vec<(&str, String)> = Vec::new();
        for n in &p.names {
            rows.push((l.terms.birth_name, esc(&name_full(n))));
            if let Some(u) = n.used_family() {
                rows.push((l.terms.used_name, esc(u)));
            }
        }
        if let Some(b) = &p.birth_time {
            rows.push((l.born, esc(&fmt_time(b, lang))));
        }
        if let Some(g) = &p.gender {
            rows.push((l.terms.sex, esc(&gender(g, l))));
        }
        if let Some(bp) = &p.birth_place {
            rows.push((l.terms.birth_place, esc(bp)));
        }
        if let Some(ins) = &p.ins {
            let shown = if ctx.options.mask_ins {
                "•••".to_owned()
            } else {
                ins.value.clone()
            };
            rows.push((l.terms.ins, esc(&format!("{shown} ({})", ins.oid))));
        }
        if !p.other_ids.is_empty() {
            rows.push((l.terms.other_ids, ids_text(&p.other_ids)));
        }
        match (&p.ins, ctx.options.mask_ins) {
            // The MSSanté patient mailbox is built from the INS: mask it there too.
            (Some(ins), true) => {
                let masked: Vec<Telecom> = p
                    .telecoms
                    .iter()
                    .map(|t| Telecom {
                        value: t.value.replace(&ins.value, "•••"),
                        ..t.clone()
                    })
                    .collect();
                push_contacts(&mut rows, &p.addresses, &masked, l);
            }
            _ => push_contacts(&mut rows, &p.addresses, &p.telecoms, l),
        }
        if let Some(g) = &p.guardian {
            rows.push((l.guardian, esc(g)));
        }
        block(&mut f, l.terms.patient, &rows);
    }

    for a in &doc.authors {
        let title = l.terms.author;
        block(&mut f, title, &actor_rows(a, l, lang, None));
    }
    if let Some(la) = &doc.legal_authenticator {
        block(
            &mut f,
            l.terms.legal_authenticator,
            &actor_rows(la, l, lang, Some(l.signed_on)),
        );
    }
    if let Some(c) = &doc.custodian {
        block(&mut f, l.terms.custodian, &org_rows(c, l));
    }
    if !doc.recipients.is_empty() {
        let rows: Vec<(&str, String)> = doc
            .recipients
            .iter()
            .map(|r| {
                let mut v = esc(&r.display_name());
                if let Some(o) = r.organization.as_ref().and_then(|o| o.name.as_deref()) {
                    if r.person.is_some() {
                        let _ = write!(v, " — {}", esc(o));
                    }
                }
                ("", v)
            })
            .collect();
        block(&mut f, l.terms.recipients, &rows);
    }
    if !doc.informants.is_empty() {
        let rows: Vec<(&str, String)> = doc
            .informants
            .iter()
            .map(|i| {
                let mut v = i
                    .name
                    .as_ref()
                    .map(|n| esc(&n.display()))
                    .unwrap_or_default();
                if let Some(r) = i.relation.as_ref().and_then(Code::label) {
                    let _ = write!(v, " ({})", esc(r));
                }
                for t in &i.telecoms {
                    let _ = write!(v, " · {}", esc(&t.value));
                }
                ("", v)
            })
            .collect();
        block(&mut f, l.informants, &rows);
    }
    if let Some(e) = &doc.encounter {
        let mut rows: Vec<(&str, String)> = Vec::new();
        if let Some(c) = &e.code {
            rows.push((l.terms.doc_type, code_text(c)));
        }
        if !e.ids.is_empty() {
            rows.push((l.identifier, ids_text(&e.ids)));
        }
        if let Some(p) = period_text(&e.period, ctx) {
            rows.push(("", p));
        }
        if let Some(loc) = &e.location {
            rows.push((l.location, esc(loc)));
        }
        if let Some(r) = &e.responsible {
            rows.push((l.responsible, esc(&r.display_name())));
        }
        block(&mut f, l.terms.encounter, &rows);
    }
    for se in &doc.service_events {
        let mut rows: Vec<(&str, String)> = Vec::new();
        if let Some(c) = &se.code {
            rows.push(("", code_text(c)));
        }
        if let Some(p) = period_text(&se.period, ctx) {
            rows.push(("", p));
        }
        for p in &se.performers {
            rows.push((l.performers, esc(&p.display_name())));
        }
        block(&mut f, l.terms.service_event, &rows);
    }
    f.push_str("</div>\n</footer>\n");
    ctx.out.push_str(&f);
}

fn block(out: &mut String, title: &str, rows: &[(&str, String)]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "<div class=\"foot-block\">\n<h3>{title}</h3>\n<dl>");
    for (k, v) in rows {
        if k.is_empty() {
            let _ = writeln!(out, "<dd class=\"full\">{v}</dd>");
        } else {
            let _ = writeln!(out, "<dt>{k}</dt><dd>{v}</dd>");
        }
    }
    out.push_str("</dl>\n</div>\n");
}

fn code_text(c: &Code) -> String {
    let mut s = esc(c.label().unwrap_or(""));
    if let (Some(code), Some(_)) = (&c.code, &c.display) {
        let _ = write!(s, " <span class=\"muted\">({})</span>", esc(code));
    }
    s
}

fn ids_text(ids: &[Identifier]) -> String {
    ids.iter()
        .map(|i| esc(&i.display()))
        .collect::<Vec<_>>()
        .join("<br>")
}

fn name_full(n: &PersonName) -> String {
    let mut parts: Vec<&str> = n.prefix.iter().map(String::as_str).collect();
    let given = n.given_names();
    parts.extend(given.iter().take(1).map(String::as_str));
    if let Some(f) = n.birth_family() {
        parts.push(f);
    }
    let s = parts.join(" ");
    if s.is_empty() {
        n.text.clone().unwrap_or_default()
    } else {
        s
    }
}

fn push_contacts<'l>(
    rows: &mut Vec<(&'l str, String)>,
    addrs: &[Address],
    tels: &[Telecom],
    l: &'l super::Labels,
) {
    for a in addrs {
        rows.push((
            l.address,
            a.lines
                .iter()
                .map(|x| esc(x))
                .collect::<Vec<_>>()
                .join("<br>"),
        ));
    }
    if !tels.is_empty() {
        let v = tels
            .iter()
            .map(|t| esc(&t.value))
            .collect::<Vec<_>>()
            .join("<br>");
        rows.push((l.telecom, v));
    }
}

fn org_rows<'l>(o: &Organization, l: &'l super::Labels) -> Vec<(&'l str, String)> {
    let mut rows: Vec<(&str, String)> = Vec::new();
    if let Some(n) = &o.name {
        rows.push(("", format!("<strong>{}</strong>", esc(n))));
    }
    if !o.ids.is_empty() {
        rows.push((l.identifier, ids_text(&o.ids)));
    }
    push_contacts(&mut rows, &o.addresses, &o.telecoms, l);
    rows
}

fn actor_rows<'l>(
    a: &Actor,
    l: &'l super::Labels,
    lang: super::Lang,
    time_label: Option<&'l str>,
) -> Vec<(&'l str, String)> {
    let mut rows: Vec<(&str, String)> =
        vec![("", format!("<strong>{}</strong>", esc(&a.display_name())))];
    if let Some(r) = &a.role {
        rows.push((l.role, code_text(r)));
    }
    if !a.ids.is_empty() {
        rows.push((l.identifier, ids_text(&a.ids)));
    }
    if let Some(o) = &a.organization {
        if let Some(n) = &o.name {
            rows.push((l.organization, esc(n)));
        }
    }
    push_contacts(&mut rows, &a.addresses, &a.telecoms, l);
    if let Some(t) = &a.time {
        rows.push((time_label.unwrap_or(l.at), esc(&fmt_time(t, lang))));
    }
    rows
}
