-- The national-portal projection is built in SQL (one JSON line per dossier, streamed with COPY): this
-- function percent-encodes a dossier code for the path of its download link (RFC 3986 unreserved
-- characters stay as they are), so a sector system's own codes (spaces, slashes) give valid URLs.
-- depends: 0005_publish

CREATE FUNCTION publish.url_path_segment(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
SELECT CASE WHEN t ~ '^[A-Za-z0-9._~-]*$' THEN t
       ELSE (SELECT string_agg(CASE WHEN ch ~ '^[A-Za-z0-9._~-]$' THEN ch
                                    ELSE upper(regexp_replace(encode(convert_to(ch, 'UTF8'), 'hex'), '(..)', '%\1', 'g'))
                               END, '' ORDER BY n)
               FROM regexp_split_to_table(t, '') WITH ORDINALITY AS s(ch, n))
       END
$$;
