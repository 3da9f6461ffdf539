{% macro snapshots_to_rebuild(terms_relation) -%}
    {#- Snapshot dates of `terms_relation` (int_community_terms_weekly) whose term counts
        were built after this incremental model last took them (or never were). -#}
    select terms_built.snapshot_date
    from (
        select
            snapshot_date,
            max(built_at) as built_at,
        from {{ terms_relation }}
        group by all
    ) as terms_built
    left join (
        select
            snapshot_date,
            max(terms_built_at) as terms_built_at,
        from {{ this }}
        group by all
    ) as taken
        on terms_built.snapshot_date = taken.snapshot_date
    where taken.terms_built_at is null or terms_built.built_at > taken.terms_built_at
{%- endmacro %}

{% macro delete_gone_snapshots() -%}
    {#- Post-hook of the per-snapshot incremental text models: drop snapshots that are
        no longer in the community runs (a provisional week replaced by its Sunday). -#}
    delete from {{ this }} where snapshot_date not in (
        select snapshot_date from {{ ref('stg_communities__snapshot_runs') }}
    )
{%- endmacro %}
