-- Size of every declared group on every day from its creation to the last day of
-- data: joins and leaves of the day and the members at the end of the day.
-- Built from +1/-1 changes and a running sum, so its cost grows with memberships
-- and days, not with members x days.
with

groups as (
    select * from {{ ref('stg_product__groups') }}
),

memberships as (
    select * from {{ ref('stg_product__group_memberships') }}
),

events as (
    select * from {{ ref('stg_product__events') }}
),

data_end as (
    select cast(max(occurred_at) as date) as last_date from events
),

changes as (
    select
        group_id,
        cast(joined_at as date) as membership_date,
        1 as count_joined,
        0 as count_left
    from memberships
    union all
    select
        group_id,
        cast(left_at as date) as membership_date,
        0 as count_joined,
        1 as count_left
    from memberships
    where left_at is not null
),

daily_changes as (
    select
        group_id,
        membership_date,
        sum(count_joined) as count_joined,
        sum(count_left) as count_left
    from changes
    group by all
),

group_days as (
    select
        groups.group_id,
        cast(days.day_start as date) as membership_date
    from groups
    cross join data_end
    {{ cross_join_days(
        'cast(groups.created_at as date)',
        'greatest(data_end.last_date, cast(groups.created_at as date))',
        'days',
        'day_start',
    ) }}
),

-- Memberships dated before the group's creation still count from their first day.
all_days as (
    select
        group_id,
        membership_date
    from group_days
    union
    select
        group_id,
        membership_date
    from daily_changes
),

final as (
    select
        all_days.group_id,
        all_days.membership_date,
        cast(coalesce(daily_changes.count_joined, 0) as bigint) as count_joined,
        cast(coalesce(daily_changes.count_left, 0) as bigint) as count_left,
        cast(sum(coalesce(daily_changes.count_joined, 0) - coalesce(daily_changes.count_left, 0))
            over (
                partition by all_days.group_id
                order by all_days.membership_date
                rows between unbounded preceding and current row
            )
        as bigint) as count_members
    from all_days
    left join daily_changes
        on
            all_days.group_id = daily_changes.group_id
            and all_days.membership_date = daily_changes.membership_date
)

select * from final
