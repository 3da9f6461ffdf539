-- Incremental: only the (user, day) cells that received newly loaded events are
-- recomputed (delete+insert), so a daily refresh costs the new days, late events
-- included, not the whole history. On Spark (no delete without Delta or Iceberg) the
-- table is partitioned by activity_date and the days that received new events are
-- recomputed whole, for every user, and overwrite their partitions (insert_overwrite).
{%- set whole_days = target.type == 'spark' %}
{{ config(
    materialized='incremental',
    incremental_strategy=('insert_overwrite' if target.type == 'spark' else 'delete+insert'),
    unique_key=['user_id', 'activity_date'],
    partition_by=(['activity_date'] if target.type == 'spark' else none),
) }}

with

all_events as (
    select * from {{ ref('int_events_priced') }}
),

{% if is_incremental() %}
    new_user_days as (
        select distinct
            {% if not whole_days %}user_id,{% endif %}
            activity_date
        from all_events
        where _loaded_at > (select max(stored_days._loaded_at) from {{ this }} as stored_days)
    ),

    events as (
        select all_events.*
        from all_events
        {{ semi_join() }} new_user_days
            on
                {% if not whole_days %}all_events.user_id = new_user_days.user_id and{% endif %}
                all_events.activity_date = new_user_days.activity_date
        -- Lets DuckDB skip row groups of older days before the join.
        where all_events.occurred_at >= (select min(affected.activity_date) from new_user_days as affected)
    ),
{% else %}
    events as (
        select * from all_events
    ),
{% endif %}

final as (
    select
        events.user_id,
        events.activity_date,
        count(*) as count_events,
        count(*) filter (where events.event_type = 'session_start') as count_sessions,
        count(*) filter (where events.event_type = 'post') as count_posts,
        count(*) filter (where events.event_type = 'comment') as count_comments,
        count(*) filter (where events.event_type = 'reaction') as count_reactions,
        count(*) filter (where events.event_type = 'share') as count_shares,
        count(*) filter (where events.event_type = 'mention') as count_mentions,
        count(*) filter (where events.event_type = 'invite_sent') as count_invites_sent,
        count(*) filter (where events.event_type = 'invite_accepted') as count_invites_accepted,
        count(*) filter (where events.event_type = 'group_created') as count_groups_created,
        count(*) filter (where events.event_type = 'group_joined') as count_groups_joined,
        count(*) filter (where events.event_type = 'group_left') as count_groups_left,
        count(*) filter (where events.event_type = 'purchase') as count_purchases,
        -- Summed as decimals: float sums depend on the order rows arrive in, and the
        -- same input must give the same figures (incremental or full refresh).
        cast(coalesce(
            sum(events.amount_usd) filter (where events.event_type = 'purchase'), 0
        ) as double) as sum_purchase_amount_usd,
        count(*) filter (where events.group_id is not null) as count_events_in_groups,
        min(events.occurred_at) as first_event_at,
        max(events.occurred_at) as last_event_at,
        max(events._loaded_at) as _loaded_at
    from events
    group by all
)

select * from final
