-- One row per KPI day and user with an open declared-group membership that day (in
-- any group): who counts as a group member in the daily KPIs.
with

days as (
    select * from {{ ref('int_kpi_days') }}
),

member_spells as (
    select * from {{ ref('int_group_membership_spells') }}
),

final as (
    select distinct
        days.kpi_date,
        member_spells.user_id
    from days
    inner join member_spells
        on days.kpi_date >= member_spells.joined_date and days.kpi_date < member_spells.left_date
)

select * from final
