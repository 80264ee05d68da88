//! `history.atom` and `history.rss`: one entry per public incident and per
//! maintenance, newest change first, with ids that never change.

use super::escape::{html, xml};
use super::json::time;
use super::model::{Page, PageUpdate};
use crate::time::Timestamp;

struct Entry<'a> {
    /// Stable: `tag:`-free, from the page id and the record id.
    id: String,
    title: &'a str,
    link: String,
    published: Timestamp,
    updated: Timestamp,
    updates: &'a [PageUpdate],
}

fn entries(page: &Page) -> Vec<Entry<'_>> {
    let link = |path: String| {
        if page.url.is_empty() {
            path
        } else {
            format!("{}/{path}", page.url)
        }
    };
    let mut list: Vec<Entry<'_>> = page
        .incidents
        .iter()
        .map(|i| Entry {
            id: format!("urn:incident:{}:incident:{}", page.id, i.id),
            title: &i.name,
            link: link(format!("incidents/{}.html", i.id)),
            published: i.created_at,
            updated: i.updated_at,
            updates: &i.updates,
        })
        .chain(page.maintenances.iter().map(|m| Entry {
            id: format!("urn:incident:{}:maintenance:{}", page.id, m.id),
            title: &m.name,
            link: link(format!("maintenance/{}.html", m.id)),
            published: m.created_at,
            updated: m.updated_at,
            updates: &m.updates,
        }))
        .collect();
    list.sort_by(|a, b| (b.updated, &b.id).cmp(&(a.updated, &a.id)));
    list.truncate(50);
    list
}

/// The updates as an HTML fragment (escaped once here, and once more as XML).
fn content(page: &Page, updates: &[PageUpdate]) -> String {
    updates
        .iter()
        .map(|u| {
            format!(
                "<p><small>{} {}</small><br><strong>{}</strong> - {}</p>",
                page.zone.short(&u.at),
                html(&page.zone.name()),
                html(&super::html::status_label(&u.status)),
                html(&u.body).replace('\n', "<br>")
            )
        })
        .collect::<Vec<_>>()
        .join("")
}

/// The page's front door, absolute when its address is known.
fn home(page: &Page) -> String {
    if page.url.is_empty() {
        "index.html".to_string()
    } else {
        format!("{}/", page.url)
    }
}

pub fn atom(page: &Page) -> String {
    let self_link = if page.url.is_empty() {
        "history.atom".to_string()
    } else {
        format!("{}/history.atom", page.url)
    };
    let home = home(page);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n<id>urn:incident:{}:history</id>\n<title>{} status history</title>\n<updated>{}</updated>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n<author><name>{}</name></author>\n",
        xml(&page.id),
        xml(&page.name),
        time(&page.updated_at),
        xml(&home),
        xml(&self_link),
        xml(&page.name),
    );
    for entry in entries(page) {
        out.push_str(&format!(
            "<entry>\n<id>{}</id>\n<title>{}</title>\n<published>{}</published>\n<updated>{}</updated>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n<content type=\"html\">{}</content>\n</entry>\n",
            xml(&entry.id),
            xml(entry.title),
            time(&entry.published),
            time(&entry.updated),
            xml(&entry.link),
            xml(&content(page, entry.updates)),
        ));
    }
    out.push_str("</feed>\n");
    out
}

pub fn rss(page: &Page) -> String {
    let home = home(page);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\">\n<channel>\n<title>{} status history</title>\n<link>{}</link>\n<description>Incidents and maintenance of {}</description>\n<lastBuildDate>{}</lastBuildDate>\n",
        xml(&page.name),
        xml(&home),
        xml(&page.name),
        page.updated_at.with_timezone(&chrono::Utc).to_rfc2822(),
    );
    for entry in entries(page) {
        out.push_str(&format!(
            "<item>\n<title>{}</title>\n<link>{}</link>\n<guid isPermaLink=\"false\">{}</guid>\n<pubDate>{}</pubDate>\n<description>{}</description>\n</item>\n",
            xml(entry.title),
            xml(&entry.link),
            xml(&entry.id),
            entry.published.with_timezone(&chrono::Utc).to_rfc2822(),
            xml(&content(page, entry.updates)),
        ));
    }
    out.push_str("</channel>\n</rss>\n");
    out
}
