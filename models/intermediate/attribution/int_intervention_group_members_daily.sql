-- Who is a member of which group on each day some intervention's attribution reads
-- (from the earliest pre-period start to the latest post-period end): declared groups
-- from their membership spells, detected communities from the latest weekly snapshot
-- before the day (a snapshot describes the weeks up to it).
with

windows as (
    select * from {{ ref('int_intervention_windows_dated') }}
),

spells as (
    select * from {{ ref('int_group_membership_spells') }}
),

assignments as (
    select * from {{ ref('stg_communities__assignments') }}
),

days as (
    select cast(series.day_start as date) as activity_date
    from (
        select
            min(pre_start_date) as first_date,
            max(post_end_date) as last_date,
        from windows
    ) as bounds
    cross join generate_series(bounds.first_date, bounds.last_date, interval 1 day) as series (day_start)
),

declared as (
    select distinct
        'declared' as group_kind,
        'group:' || spells.group_id as community_id,
        days.activity_date,
        spells.user_id,
    from days
    inner join spells
        on days.activity_date >= spells.joined_date and days.activity_date < spells.left_date
),

snapshot_dates as (
    select distinct snapshot_date from assignments
),

snapshot_of_day as (
    select
        days.activity_date,
        max(members.snapshot_date) as snapshot_date,
    from days
    inner join snapshot_dates as members
        on days.activity_date > members.snapshot_date
    group by days.activity_date
),

detected as (
    select
        'detected' as group_kind,
        assignments.community_id,
        snapshot_of_day.activity_date,
        assignments.user_id,
    from snapshot_of_day
    inner join assignments
        on snapshot_of_day.snapshot_date = assignments.snapshot_date
    where assignments.membership_status = 'member'
),

final as (
    select * from declared
    union all
    select * from detected
)

select * from final
