-- Who posted or commented inside which declared group on which day, with how many
-- posts and comments: the input of the group-content KPIs and of active groups.
with

events as (
    select * from {{ ref('int_events_priced') }}
),

final as (
    select
        activity_date,
        group_id,
        user_id,
        count(*) as count_contents,
    from events
    where event_type in ('post', 'comment') and group_id is not null
    group by all
)

select * from final
