-- Each group's members' activity on each day an attribution reads: members that day,
-- members active that day (any event, as DAU counts users), their activity events
-- (posts, comments, reactions, shares and mentions: what an intervention on a group
-- means to raise) and their contents (posts and comments, as the KPI count_contents).
-- All of a member's activity counts, inside the group or not: an intervention acts on
-- its members. These are the sufficient statistics the attribution step reads.
with

members as (
    select * from {{ ref('int_intervention_group_members_daily') }}
),

events as (
    select * from {{ ref('int_events_priced') }}
),

user_days as (
    select
        user_id,
        activity_date,
        count(*) filter (
            where event_type in ('post', 'comment', 'reaction', 'share', 'mention')
        ) as count_activity_events,
        count(*) filter (where event_type in ('post', 'comment')) as count_contents,
    from events
    where activity_date in (select distinct members.activity_date from members)
    group by all
),

final as (
    select
        members.group_kind,
        members.community_id,
        members.activity_date,
        count(*) as count_members,
        count(user_days.user_id) as count_active_members,
        cast(coalesce(sum(user_days.count_activity_events), 0) as bigint) as count_activity_events,
        cast(coalesce(sum(user_days.count_contents), 0) as bigint) as count_contents,
    from members
    left join user_days
        on
            members.user_id = user_days.user_id
            and members.activity_date = user_days.activity_date
    group by all
)

select * from final
