// GraphQL documents the tests start from: the seed's examples, the Directus recordings'
// requests, and documents that exercise every part of the grammar.

export const seedExamples = {
  list: `query {
	notifications {
		id
		recipient
		subject
	}
}`,
  by_id: `query {
	notifications_by_id(id: 42) {
		id
		sender
		recipient
		message
		subject
	}
}`,
  create_one: `mutation {
	create_notifications_item(data: { recipient: "410b5772-e63f-4ae6-9ea2-39c3a31bd6ca", subject: "Hi there!" }) {
		id
		recipient
	}
}`,
  create_many: `mutation {
	create_notifications_items(
		data: [
			{
				collection: "directus_files"
				recipient: "410b5772-e63f-4ae6-9ea2-39c3a31bd6ca"
				message: "Hi there! You should check out these files"
			}
			{
				collection: "articles"
				recipient: "410b5772-e63f-4ae6-9ea2-39c3a31bd6ca"
				message: "Hi there! You should check out these articles"
			}
		]
	) {
		id
		recipient
	}
}`,
  update_one: `mutation {
	update_notifications_item(id: 32, data: { message: "This is my updated notification" }) {
		id
		message
	}
}`,
  update_many: `mutation {
	update_notifications_items(ids: [15, 64], data: { message: "Updated message!" }) {
		id
		recipient
	}
}`,
  delete_one: `mutation {
	delete_notifications_item(id: 32) {
		id
	}
}`,
  delete_many: `mutation {
	delete_notifications_items(ids: [15, 251, 810]) {
		ids
	}
}`,
};

// Valid documents beyond the seed: every grammar production at least once.
export const grammarExamples = [
  `query Inbox($status: String = "inbox", $limit: Int! = 10, $skipSubject: Boolean = false) {
    first: notifications(filter: {status: {_eq: $status}}, sort: ["-timestamp", "id"], limit: $limit) {
      ...Core
      subject @skip(if: $skipSubject)
      ... on directus_notifications { message }
      ... @include(if: true) { collection item }
    }
    count: notifications_aggregated(groupBy: ["status"]) { group countAll count { id } }
    __typename
  }
  fragment Core on directus_notifications { id timestamp status timestamp_func { year month day } }`,
  `{ notifications(filter: {_or: [{subject: {_icontains: "build"}}, {message: {_starts_with: "\\u00e9t\\u{1F600}"}}], id: {_between: [1, 2.5e3]}}) { id } }`,
  `query { notifications(search: """
      block
        string with "quotes" and \\""" escaped
    """) { id } }`,
  `mutation M { a: delete_notifications_item(id: "1") { id } b: delete_notifications_items(ids: [1, "2", null]) { ids } }`,
  `query ($f: directus_notifications_filter, $ids: [ID]) { notifications(filter: $f) { id } x: notifications(filter: {id: {_in: $ids}}) { id } }`,
  `# a comment
  query Q { notifications_by_id(id: 1) { id, subject, } } # trailing comment`,
];
