// SPDX-License-Identifier: Apache-2.0
/* Rewrite a policy's YAML so that spec.options says policy-mode: MODE (tetra tp add --mode). */
#include <errno.h>
#include <string.h>
#include <yaml.h>

#include "lib/policy/policy.h"
#include "lib/util.h"

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map, const char *key, int *index)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE && streq((char *)k->data.scalar.value, key)) {
			if (index)
				*index = p->value;
			return yaml_document_get_node(doc, p->value);
		}
	}
	return NULL;
}

static int add_scalar(yaml_document_t *doc, const char *s)
{
	return yaml_document_add_scalar(doc, NULL, (yaml_char_t *)s, (int)strlen(s),
					YAML_ANY_SCALAR_STYLE);
}

static int write_sbuf(void *data, unsigned char *buf, size_t size)
{
	struct sbuf *sb = data;

	sbuf_add(sb, buf, size);
	return !sb->oom;
}

/* Set (or add) {name: policy-mode, value: mode} in spec.options of the document's root. */
static int set_mode(yaml_document_t *doc, const char *mode)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	yaml_node_t *spec = map_get(doc, root, "spec", NULL), *options;
	int spec_index = 0, options_index = 0, item, k, v;

	if (!spec || spec->type != YAML_MAPPING_NODE)
		return -EINVAL;
	map_get(doc, root, "spec", &spec_index);
	options = map_get(doc, spec, "options", &options_index);
	if (options && options->type != YAML_SEQUENCE_NODE)
		return -EINVAL;
	if (options) {
		for (yaml_node_item_t *i = options->data.sequence.items.start;
		     i < options->data.sequence.items.top; i++) {
			yaml_node_t *opt = yaml_document_get_node(doc, *i);
			yaml_node_t *name = map_get(doc, opt, "name", NULL);

			if (!name || name->type != YAML_SCALAR_NODE ||
			    !streq((char *)name->data.scalar.value, "policy-mode"))
				continue;
			for (yaml_node_pair_t *p = opt->data.mapping.pairs.start;
			     p < opt->data.mapping.pairs.top; p++) {
				yaml_node_t *key = yaml_document_get_node(doc, p->key);

				if (key && key->type == YAML_SCALAR_NODE &&
				    streq((char *)key->data.scalar.value, "value")) {
					v = add_scalar(doc, mode);
					if (!v)
						return -ENOMEM;
					/* add_scalar may move the node array: look the pair up again */
					opt = yaml_document_get_node(doc, *i);
					p = opt->data.mapping.pairs.start +
					    (p - opt->data.mapping.pairs.start);
					p->value = v;
					return 0;
				}
			}
			k = add_scalar(doc, "value");
			v = add_scalar(doc, mode);
			if (!k || !v || !yaml_document_append_mapping_pair(doc, *i, k, v))
				return -ENOMEM;
			return 0;
		}
	} else {
		int key = add_scalar(doc, "options");

		options_index = yaml_document_add_sequence(doc, NULL, YAML_ANY_SEQUENCE_STYLE);
		if (!key || !options_index ||
		    !yaml_document_append_mapping_pair(doc, spec_index, key, options_index))
			return -ENOMEM;
	}
	item = yaml_document_add_mapping(doc, NULL, YAML_BLOCK_MAPPING_STYLE);
	k = add_scalar(doc, "name");
	v = add_scalar(doc, "policy-mode");
	if (!item || !k || !v || !yaml_document_append_mapping_pair(doc, item, k, v))
		return -ENOMEM;
	k = add_scalar(doc, "value");
	v = add_scalar(doc, mode);
	if (!k || !v || !yaml_document_append_mapping_pair(doc, item, k, v) ||
	    !yaml_document_append_sequence_item(doc, options_index, item))
		return -ENOMEM;
	return 0;
}

int policy_yaml_set_mode(const char *yaml, size_t len, const char *mode, char **ret)
{
	yaml_parser_t parser;
	yaml_emitter_t em;
	yaml_document_t doc;
	struct sbuf out;
	int r = 0, docs = 0;

	if (!streq(mode, "enforce") && !streq(mode, "monitor"))
		return -EINVAL;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	if (!yaml_emitter_initialize(&em)) {
		yaml_parser_delete(&parser);
		return -ENOMEM;
	}
	sbuf_init(&out);
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	yaml_emitter_set_output(&em, write_sbuf, &out);
	yaml_emitter_set_width(&em, 100);
	if (!yaml_emitter_open(&em)) {
		r = -EIO;
		goto out;
	}
	for (;;) {
		if (!yaml_parser_load(&parser, &doc)) {
			r = -EINVAL;
			break;
		}
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			break;
		}
		docs++;
		r = set_mode(&doc, mode);
		if (r < 0) {
			yaml_document_delete(&doc);
			break;
		}
		/* the emitter takes the document over */
		if (!yaml_emitter_dump(&em, &doc)) {
			r = -EIO;
			break;
		}
	}
	if (r == 0 && !yaml_emitter_close(&em))
		r = -EIO;
	if (r == 0 && docs == 0)
		r = -EINVAL;
	if (r == 0 && out.oom)
		r = -ENOMEM;
out:
	yaml_emitter_delete(&em);
	yaml_parser_delete(&parser);
	if (r == 0)
		*ret = sbuf_steal(&out);
	sbuf_free(&out);
	return r;
}
